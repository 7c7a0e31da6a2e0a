package dev.coffer.agent.bench;

import dev.coffer.chunker.FileFormats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link CodecBench} run measures and for how long.
 *
 * @param ops the ops, in output order
 * @param data the data kinds, in output order
 * @param threads the thread counts to run each case with, in output order
 * @param warmup how long to run every op once before measuring, so the JIT has compiled the hot
 *     paths (AES-GCM in particular is several times slower until C2 compiles its intrinsic)
 * @param measure how long each case is measured
 * @param chunkSize bytes per chunk, {@link FileFormats#MAX_CHUNK_SIZE} (4 MiB) for the published figures
 * @param seed the seed the data and the throw-away keys are made from
 */
public record BenchSettings(List<BenchOp> ops, List<DataKind> data, List<Integer> threads,
                            Duration warmup, Duration measure, int chunkSize, long seed) {

    /** Warm-up of a full run, shared by the ops: about 2 s each, enough for C2 to compile AES-GCM decryption. */
    public static final Duration FULL_WARMUP = Duration.ofSeconds(20);
    /** Measurement per case of a full run. */
    public static final Duration FULL_MEASURE = Duration.ofSeconds(1);
    /** Warm-up of a quick run: the figures of slow-to-compile ops may come out low. */
    public static final Duration QUICK_WARMUP = Duration.ofSeconds(4);
    /** Measurement per case of a quick run. */
    public static final Duration QUICK_MEASURE = Duration.ofMillis(250);
    /** The default seed, so runs on different machines process the same bytes. */
    public static final long DEFAULT_SEED = 20_250_101L;

    public BenchSettings {
        ops = List.copyOf(ops);
        data = List.copyOf(data);
        threads = List.copyOf(threads);
        if (ops.isEmpty() || data.isEmpty() || threads.isEmpty()) {
            throw new IllegalArgumentException("nothing to measure: ops, data kinds and thread counts must not be empty");
        }
        for (int t : threads) {
            if (t < 1 || t > 1024) {
                throw new IllegalArgumentException("thread count " + t + " outside 1..1024");
            }
        }
        if (warmup.isNegative()) {
            throw new IllegalArgumentException("warm-up must not be negative, got " + warmup);
        }
        if (measure.isNegative() || measure.isZero()) {
            throw new IllegalArgumentException("measurement time must be positive, got " + measure);
        }
        if (chunkSize < 1 || chunkSize > FileFormats.MAX_CHUNK_SIZE) {
            throw new IllegalArgumentException("chunk size " + chunkSize + " outside 1.." + FileFormats.MAX_CHUNK_SIZE);
        }
    }

    /**
     * Every op on every data kind, on one thread and on {@code cpus} threads, 4 MiB chunks, the
     * full warm-up and measurement times.
     */
    public static BenchSettings full(int cpus) {
        List<Integer> threads = cpus > 1 ? List.of(1, cpus) : List.of(1);
        return new BenchSettings(List.of(BenchOp.values()), List.of(DataKind.values()), threads,
                FULL_WARMUP, FULL_MEASURE, FileFormats.MAX_CHUNK_SIZE, DEFAULT_SEED);
    }

    /** A copy with other durations. */
    public BenchSettings withTimes(Duration warmup, Duration measure) {
        return new BenchSettings(ops, data, threads, warmup, measure, chunkSize, seed);
    }

    /** A copy measuring only these ops, data kinds and thread counts. */
    public BenchSettings withCases(List<BenchOp> ops, List<DataKind> data, List<Integer> threads) {
        return new BenchSettings(ops, data, threads, warmup, measure, chunkSize, seed);
    }

    /** A copy with another chunk size. */
    public BenchSettings withChunkSize(int chunkSize) {
        return new BenchSettings(ops, data, threads, warmup, measure, chunkSize, seed);
    }

    /**
     * The cases to run, ops outermost, leaving out the combinations the product never runs (the
     * chunk codec on all-zero chunks).
     *
     * @throws IllegalArgumentException when that leaves nothing to measure
     */
    public List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (BenchOp op : ops) {
            for (DataKind kind : data) {
                if (op.supports(kind)) {
                    for (int t : threads) {
                        cases.add(new Case(op, kind, t));
                    }
                }
            }
        }
        if (cases.isEmpty()) {
            throw new IllegalArgumentException("nothing to measure: the chunk codec never encodes all-zero chunks"
                    + " (they are named by the zero digest and never stored); pick another data kind");
        }
        return cases;
    }

    /** One op on one data kind with one thread count. */
    public record Case(BenchOp op, DataKind data, int threads) {
    }
}
