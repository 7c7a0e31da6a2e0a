package dev.coffer.agent.serve;

import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Manifest;
import dev.coffer.store.api.StoreClient;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One disk of a restore point served read-only over NBD from inside another command (the live
 * restore serves the disk it streams), with the same parts {@code coffer serve} uses: a reader
 * lease ({@link StoreChunks}), a {@link ChunkCache} with read-ahead, and an {@link NbdServer}.
 * {@link #close} stops serving and releases the lease; it may be called from a shutdown hook and
 * more than once.
 */
public final class ServedDisk implements AutoCloseable {

    private final Path work;
    private final StoreChunks chunks;
    private final ChunkCache cache;
    private final NbdServer server;
    private boolean closed;

    private ServedDisk(Path work, StoreChunks chunks, ChunkCache cache, NbdServer server) {
        this.work = work;
        this.chunks = chunks;
        this.cache = cache;
        this.server = server;
    }

    /**
     * Takes a reader lease on {@code snapshot} and serves disk {@code diskName} at {@code address}.
     *
     * @param manifest the restore point's manifest, already checked ({@code RestoreRun.manifest})
     * @param fetchers chunks fetched from the store in parallel
     * @param cacheChunks decoded chunks kept in memory, or 0 for {@link ChunkCache#capacityFor}
     * @throws IOException when the index cannot be fetched or checked, the lease refused, or the
     *     address cannot be listened on; nothing is left open then
     */
    public static ServedDisk open(StoreClient client, String snapshot, Manifest manifest, String diskName, CryptConfig crypt,
            SocketAddress address, int fetchers, int cacheChunks) throws IOException {
        Path work = Files.createTempDirectory("coffer-served-");
        StoreChunks chunks = null;
        ChunkCache cache = null;
        try {
            chunks = StoreChunks.open(client, snapshot, manifest, diskName, crypt, work);
            int readAhead = Math.max(2, (16 << 20) / chunks.chunkSize());
            int capacity = cacheChunks > 0 ? cacheChunks : ChunkCache.capacityFor(chunks.chunkSize());
            cache = new ChunkCache(chunks, capacity, readAhead, fetchers);
            NbdServer server = NbdServer.start(address, diskName, cache);
            return new ServedDisk(work, chunks, cache, server);
        } catch (IOException | RuntimeException e) {
            if (cache != null) {
                cache.close();
            }
            if (chunks != null) {
                chunks.close();
            }
            Files.deleteIfExists(work);
            throw e;
        }
    }

    /** The NBD URI clients use. */
    public String uri() throws IOException {
        return server.uri();
    }

    /** Blocks until the server is closed. */
    public void await() throws InterruptedException {
        server.await();
    }

    /** The disk's size in bytes. */
    public long size() {
        return chunks.size();
    }

    /** Bytes of the disk's data chunks served to NBD clients so far ({@link NbdServer#dataBytesServed}). */
    public long dataBytesServed() {
        return server.dataBytesServed();
    }

    /** Bytes of the disk's zero chunks, which are served as holes and never fetched. */
    public long zeroBytes() throws IOException {
        return chunks.zeroBytes();
    }

    /** Stops serving (open connections are closed) and releases the reader lease. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // stopping anyway
        }
        cache.close();
        try {
            chunks.close(); // releases the reader lease
        } catch (IOException e) {
            // the lease expires on its own
        }
        try {
            Files.deleteIfExists(work);
        } catch (IOException e) {
            // a temp directory left behind
        }
    }
}
