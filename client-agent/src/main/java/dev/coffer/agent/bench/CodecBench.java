package dev.coffer.agent.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Measures the throughput of the data path on this machine: each op of {@link BenchSettings} on
 * each data kind, with each thread count, for a fixed time after a JIT warm-up.
 *
 * <p>Each case gives every thread its own worker (codec, cipher, zstd context, buffers) over one
 * shared read-only chunk, starts them together, lets them loop until the measurement time is up,
 * and divides the plaintext bytes all threads processed by the time until the last one finished
 * its last chunk. Before any case, every op runs once for its share of the warm-up; before each
 * case, the case itself runs briefly, unmeasured, so thread start-up and caches are out of the way.
 * Plain synchronous code: {@link #run} blocks until every case is done.
 */
public final class CodecBench {

    /** Rough heap a worker needs, in chunks: input copies, output buffers, the codec's scratch. */
    private static final int CHUNKS_PER_THREAD = 3;
    /** Rough heap the shared inputs need, in chunks: the data kinds and one derived blob. */
    private static final int SHARED_CHUNKS = 6;
    private static final Duration MAX_CASE_WARMUP = Duration.ofMillis(500);
    private static final int WARMUP_CHUNK_SIZE = 16 * 1024;

    private static volatile int sink;

    private final BenchSettings settings;
    private final Consumer<String> progress;
    private final BenchKeys keys;
    private final Map<DataKind, byte[]> chunks = new EnumMap<>(DataKind.class);

    /**
     * @param progress receives one line per phase and per finished case (for stderr)
     */
    public CodecBench(BenchSettings settings, Consumer<String> progress) {
        this.settings = settings;
        this.progress = progress;
        this.keys = BenchKeys.fromSeed(settings.seed());
    }

    /**
     * The largest thread count whose buffers fit comfortably in a heap of {@code maxHeap} bytes,
     * at least 1. The client heap is fixed (see {@code bin/coffer}), so on a machine with many cores
     * the all-core case may have to run with fewer threads than there are cores.
     */
    public static int maxThreadsForHeap(int chunkSize, long maxHeap) {
        long usable = maxHeap * 3 / 4 - (long) SHARED_CHUNKS * chunkSize;
        return (int) Math.max(1, Math.min(1024, usable / ((long) CHUNKS_PER_THREAD * chunkSize)));
    }

    /**
     * Runs every case.
     *
     * @return one result per case, ops outermost, then data kinds, then thread counts
     * @throws IllegalArgumentException when there is nothing to measure, or a thread count does not
     *     fit in this JVM's heap
     * @throws IllegalStateException when an op fails (a bug: the inputs are made to be valid)
     */
    public List<BenchResult> run() {
        List<BenchSettings.Case> cases = settings.cases();
        int fit = maxThreadsForHeap(settings.chunkSize(), Runtime.getRuntime().maxMemory());
        for (BenchSettings.Case c : cases) {
            if (c.threads() > fit) {
                throw new IllegalArgumentException(c.threads() + " threads need more heap than this JVM has ("
                        + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB, room for " + fit
                        + " threads); raise it with COFFER_JAVA_OPTS=-Xmx...");
            }
        }
        warmUp(cases);
        List<BenchResult> results = new ArrayList<>(cases.size());
        for (BenchSettings.Case c : cases) {
            Workload workload = c.op().workload(chunk(c.data()), keys);
            Duration caseWarmup = settings.measure().dividedBy(4);
            measure(workload, c.threads(), caseWarmup.compareTo(MAX_CASE_WARMUP) > 0 ? MAX_CASE_WARMUP : caseWarmup,
                    settings.chunkSize());
            long[] m = measure(workload, c.threads(), settings.measure(), settings.chunkSize());
            BenchResult r = BenchResult.of(c.op(), c.data(), c.threads(), m[0], m[1]);
            progress.accept(String.format("%-24s %-7s %3d thread%s %10.1f MB/s",
                    r.op(), r.data(), r.threads(), r.threads() == 1 ? " " : "s", r.mbPerSecond()));
            results.add(r);
        }
        return results;
    }

    private void warmUp(List<BenchSettings.Case> cases) {
        if (settings.warmup().isZero()) {
            return;
        }
        Set<BenchOp> ops = new LinkedHashSet<>();
        cases.forEach(c -> ops.add(c.op()));
        progress.accept("warming up the JIT for " + settings.warmup().toMillis() / 1000.0 + " s ("
                + ops.size() + " ops, one thread)");
        Duration share = settings.warmup().dividedBy(2L * ops.size());
        int small = Math.min(settings.chunkSize(), WARMUP_CHUNK_SIZE);
        for (BenchOp op : ops) {
            // mixed data exercises both the compressible and the incompressible paths
            DataKind kind = op.supports(DataKind.MIXED) ? DataKind.MIXED : DataKind.RANDOM;
            // Small chunks first: many calls reach C2's invocation thresholds quickly. JDK GCM
            // decryption buffers everything until doFinal, so with 4 MiB chunks alone it is one huge
            // call per chunk and stays at ~50 MB/s for 20 s or more before C2 compiles it.
            measure(op.workload(kind.chunk(small, settings.seed()), keys), 1, share, small);
            measure(op.workload(chunk(kind), keys), 1, share, settings.chunkSize());
        }
    }

    private byte[] chunk(DataKind kind) {
        return chunks.computeIfAbsent(kind, k -> k.chunk(settings.chunkSize(), settings.seed()));
    }

    /** Runs the workload (chunks of {@code chunkLength}) on {@code threads} threads; returns {bytes, nanos}. */
    private long[] measure(Workload workload, int threads, Duration duration, int chunkLength) {
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        long[] startAndDeadline = new long[2];
        long[] bytes = new long[threads];
        long[] ends = new long[threads];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> started = new ArrayList<>(threads);
        for (int i = 0; i < threads; i++) {
            int id = i;
            Thread t = new Thread(() -> {
                try (Workload.Worker worker = workload.newWorker()) {
                    ready.countDown();
                    go.await();
                    long deadline = startAndDeadline[1];
                    long n = 0;
                    int local = 0;
                    do {
                        local ^= worker.runOnce();
                        n += chunkLength;
                    } while (System.nanoTime() < deadline);
                    ends[id] = System.nanoTime();
                    bytes[id] = n;
                    sink ^= local;
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    ready.countDown();
                }
            }, "coffer-bench-" + i);
            t.setDaemon(true);
            t.start();
            started.add(t);
        }
        try {
            ready.await();
            // written before go.countDown(), read after go.await(): the latch orders them
            startAndDeadline[0] = System.nanoTime();
            startAndDeadline[1] = startAndDeadline[0] + duration.toNanos();
            go.countDown();
            for (Thread t : started) {
                t.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring", e);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("benchmark op failed: " + failure.get(), failure.get());
        }
        long total = 0;
        long lastEnd = startAndDeadline[0];
        for (int i = 0; i < threads; i++) {
            total += bytes[i];
            lastEnd = Math.max(lastEnd, ends[i]);
        }
        return new long[] {total, Math.max(1, lastEnd - startAndDeadline[0])};
    }
}
