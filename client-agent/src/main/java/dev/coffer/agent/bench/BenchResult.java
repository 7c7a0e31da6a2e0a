package dev.coffer.agent.bench;

/**
 * The throughput of one case: one op on one kind of data with a number of threads.
 *
 * @param op the op's label, e.g. {@code sha256}
 * @param data the data kind's label, e.g. {@code mixed}
 * @param threads how many threads ran the op at once
 * @param mbPerSecond plaintext bytes processed per second by all threads together, in MB (10^6)
 * @param bytes plaintext bytes processed during the measurement
 * @param seconds how long the measurement took, until the last thread finished its last chunk
 */
public record BenchResult(String op, String data, int threads, double mbPerSecond, long bytes, double seconds) {

    public BenchResult {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (!(mbPerSecond >= 0) || bytes < 0 || !(seconds >= 0)) {
            throw new IllegalArgumentException("negative or undefined measurement: " + mbPerSecond
                    + " MB/s, " + bytes + " bytes, " + seconds + " s");
        }
    }

    /** A result from what was measured. */
    static BenchResult of(BenchOp op, DataKind data, int threads, long bytes, long nanos) {
        double seconds = nanos / 1e9;
        return new BenchResult(op.label(), data.label(), threads, bytes / 1e6 / seconds, bytes, seconds);
    }
}
