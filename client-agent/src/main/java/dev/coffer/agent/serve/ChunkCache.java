package dev.coffer.agent.serve;

import dev.coffer.agent.io.HeapFootprint;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A bounded cache of decoded chunks in front of a slow {@link ChunkSource} (the store): the most
 * recently used {@code capacity} chunks stay in memory, concurrent requests for one chunk share
 * one fetch, and a read of chunk {@code i} right after chunk {@code i - 1} also starts fetching the
 * next {@code readAhead} chunks, so a sequential reader (qemu-img convert, a booting guest reading
 * its kernel) rarely waits for the store. Fetches run on {@code fetchers} threads.
 *
 * <p>Sequential reads are recognised per stream, for up to {@link #STREAMS} streams at once:
 * nbdcopy and {@code qemu-img convert} read with several connections, each walking its own region
 * of the disk, and one "last chunk read" for them all saw their interleaved reads as random and
 * never read ahead. Read-ahead per stream is capped so that every stream's read-ahead fits in
 * half the cache together; otherwise one stream's read-ahead would evict another's before use.
 */
public final class ChunkCache implements ChunkSource, AutoCloseable {

    private final ChunkSource source;
    private final int capacity;
    private final int readAhead;
    private final ExecutorService pool;
    /** Access-ordered: the eldest entry is the least recently used. Guarded by itself. */
    private final LinkedHashMap<Long, CompletableFuture<byte[]>> chunks;
    /** Sequential streams followed at once: nbdcopy reads with four connections by default. */
    static final int STREAMS = 4;
    /** The last chunk each stream read (-2: none yet), and when (a counter), to replace the stalest. Guarded by itself. */
    private final long[] streams = {-2, -2, -2, -2};
    private final long[] streamUsed = new long[STREAMS];
    private long streamClock;
    private long fetches;
    private long hits;

    public ChunkCache(ChunkSource source, int capacity, int readAhead, int fetchers) {
        this.source = source;
        this.capacity = Math.max(1, capacity);
        this.readAhead = Math.max(0, Math.min(readAhead, this.capacity / (2 * STREAMS)));
        this.pool = Executors.newFixedThreadPool(Math.max(1, fetchers), r -> {
            Thread t = new Thread(r, "coffer-serve-fetch");
            t.setDaemon(true);
            return t;
        });
        this.chunks = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, CompletableFuture<byte[]>> eldest) {
                return size() > ChunkCache.this.capacity;
            }
        };
    }

    /**
     * How many chunks of {@code chunkSize} bytes a cache may hold: half the heap (a serving process
     * keeps little else), at least 4 and at most 4096, each chunk counted at what its array really
     * occupies ({@link HeapFootprint}: twice its size for 1 MiB chunks in the agent's heap).
     */
    public static int capacityFor(int chunkSize) {
        return capacityFor(Runtime.getRuntime().maxMemory(), HeapFootprint.ofArray(Math.max(1, chunkSize)));
    }

    /** Chunks of {@code footprint} heap bytes each that fit in half of {@code maxHeap}, within [4, 4096]. */
    static int capacityFor(long maxHeap, long footprint) {
        return (int) Math.max(4, Math.min(4096, maxHeap / 2 / footprint));
    }

    @Override
    public long size() {
        return source.size();
    }

    @Override
    public int chunkSize() {
        return source.chunkSize();
    }

    @Override
    public boolean isZero(long chunk) throws IOException {
        return source.isZero(chunk);
    }

    @Override
    public byte[] read(long chunk) throws IOException {
        return await(fetch(chunk));
    }

    /** Starts (or joins) the fetch of data chunk {@code chunk}, with read-ahead when reads are sequential. */
    public CompletableFuture<byte[]> fetch(long chunk) {
        CompletableFuture<byte[]> f = lookup(chunk, true);
        if (readAhead > 0 && sequential(chunk)) {
            for (long next = chunk + 1; next <= chunk + readAhead && next < chunkCount(); next++) {
                try {
                    if (!source.isZero(next)) {
                        lookup(next, false);
                    }
                } catch (IOException e) {
                    break; // read-ahead is a hint
                }
            }
        }
        return f;
    }

    /**
     * Whether reading {@code chunk} continues a stream (its last read was this chunk or the one
     * before); either way the chunk becomes that stream's, or the stalest stream's, position.
     */
    private boolean sequential(long chunk) {
        synchronized (streams) {
            int stalest = 0;
            for (int i = 0; i < STREAMS; i++) {
                if (streams[i] == chunk - 1 || streams[i] == chunk) {
                    streams[i] = chunk;
                    streamUsed[i] = ++streamClock;
                    return true;
                }
                if (streamUsed[i] < streamUsed[stalest]) {
                    stalest = i;
                }
            }
            streams[stalest] = chunk;
            streamUsed[stalest] = ++streamClock;
            return false;
        }
    }

    private CompletableFuture<byte[]> lookup(long chunk, boolean counts) {
        CompletableFuture<byte[]> f;
        synchronized (chunks) {
            f = chunks.get(chunk);
            if (f != null) {
                if (counts) {
                    hits++;
                }
                return f;
            }
            fetches++;
            f = CompletableFuture.supplyAsync(() -> {
                try {
                    return source.read(chunk);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, pool);
            chunks.put(chunk, f);
        }
        CompletableFuture<byte[]> mine = f;
        f.whenComplete((v, e) -> {
            if (e != null) {
                synchronized (chunks) {
                    chunks.remove(chunk, mine); // a failed fetch is retried by the next reader
                }
            }
        });
        return f;
    }

    /** Chunks fetched from the source, and reads answered from the cache or a fetch in flight. */
    public long[] stats() {
        synchronized (chunks) {
            return new long[] {fetches, hits};
        }
    }

    /** The result of a fetch, its failure unwrapped to the I/O exception the source threw. */
    public static byte[] await(CompletableFuture<byte[]> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while fetching a chunk");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            if (c instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (c instanceof IOException io) {
                throw io;
            }
            throw new IOException(c.getMessage(), c);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS); // no decode may outlive the codecs
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
