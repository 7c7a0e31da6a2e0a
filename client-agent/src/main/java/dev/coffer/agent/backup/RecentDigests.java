package dev.coffer.agent.backup;

import dev.coffer.chunker.Digest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Digests this backup has already uploaded, so a chunk that repeats within one backup (a
 * template block, a file copied twice) goes up once. Bounded — the oldest entries fall out — so
 * memory stays constant whatever the disk size; a repeat that fell out is merely uploaded again
 * and the store keeps its first copy.
 */
final class RecentDigests {

    private final Map<Digest, Boolean> seen;

    RecentDigests(int capacity) {
        this.seen = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Digest, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** True the first time {@code d} is offered (while it stays remembered). */
    synchronized boolean firstTime(Digest d) {
        return seen.put(d, Boolean.TRUE) == null;
    }
}
