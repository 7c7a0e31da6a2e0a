package dev.coffer.agent.backup;

import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.CryptConfig;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The worker pool of a backup or restore pipeline: threads that each own a {@link ChunkCodec}
 * (codecs are not thread-safe and hold native zstd memory), a bounded window of chunks in flight,
 * and failures unwrapped to the I/O exception the worker threw. Closing stops the threads, cancels
 * what is still queued and frees every codec.
 *
 * @param <T> what each chunk's task yields
 */
public final class ChunkWorkers<T> implements AutoCloseable {

    private final ExecutorService pool;
    private final List<ChunkCodec> codecs = new ArrayList<>();
    private final ThreadLocal<ChunkCodec> codec;
    private final ArrayDeque<Future<T>> window = new ArrayDeque<>();
    private final int maxInFlight;

    /**
     * @param crypt the key of the codecs, or null
     * @param workers threads
     * @param maxInFlight chunks submitted and not yet taken, at most
     * @param name the threads' name, for stack dumps
     */
    public ChunkWorkers(CryptConfig crypt, int workers, int maxInFlight, String name) {
        this.maxInFlight = maxInFlight;
        this.codec = ThreadLocal.withInitial(() -> {
            ChunkCodec c = ChunkCodec.create(crypt);
            synchronized (codecs) {
                codecs.add(c);
            }
            return c;
        });
        this.pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** The calling worker thread's codec. */
    public ChunkCodec codec() {
        return codec.get();
    }

    /** Queues an already-known result (a zero chunk), keeping the window in order. */
    public void addDone(T value) {
        window.add(java.util.concurrent.CompletableFuture.completedFuture(value));
    }

    /**
     * Queues a task for the pool. Tasks start in submission order, so a task may wait for the
     * returned future of one submitted before it without ever deadlocking the pool.
     */
    public Future<T> submit(Callable<T> task) {
        Future<T> f = pool.submit(task);
        window.add(f);
        return f;
    }

    /** True when the window is full and the caller must {@link #takeOldest} before submitting more. */
    public boolean full() {
        return window.size() >= maxInFlight;
    }

    public boolean isEmpty() {
        return window.isEmpty();
    }

    /** Waits for the oldest queued chunk and returns its result (results come out in submission order). */
    public T takeOldest() throws IOException {
        Future<T> f = window.poll();
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a chunk");
        }
    }

    @Override
    public void close() {
        window.forEach(f -> f.cancel(true));
        pool.shutdownNow();
        synchronized (codecs) {
            codecs.forEach(ChunkCodec::close);
        }
    }
}
