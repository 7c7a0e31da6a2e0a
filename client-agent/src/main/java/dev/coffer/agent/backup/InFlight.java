package dev.coffer.agent.backup;

/**
 * How many chunks a pipeline may hold in memory at once. Each chunk in flight costs its buffer
 * plus an encoded copy (about two chunk sizes); a third of the heap is allowed for them, so the
 * agent's fixed 192 MiB heap holds 8 chunks of 4 MiB whatever the disk size or core count.
 */
public final class InFlight {

    private InFlight() {}

    /** Chunks of {@code chunkSize} that fit in flight, at least 2. */
    public static int chunks(int chunkSize) {
        long budget = Runtime.getRuntime().maxMemory() / 3;
        return (int) Math.max(2, Math.min(256, budget / (2L * chunkSize)));
    }
}
