package dev.coffer.agent.serve;

import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FormatException;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.store.api.StoreClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One disk of a restore point as a {@link ChunkSource}: the manifest is checked as a restore
 * checks it (signature under the key for encrypted restore points), the index is downloaded to a
 * temporary file and must match the manifest's checksum and size, and chunks are read through one
 * reader lease, kept alive by a heartbeat while serving. Every chunk is decoded and verified
 * against its digest (keyed when encrypted); a damaged chunk fails that read naming digest and
 * offset. Each fetching thread has its own codec.
 */
public final class StoreChunks implements ChunkSource, AutoCloseable {

    /** How often the reader lease is renewed; the store's default lease is 300 s. */
    static final long HEARTBEAT_SECONDS = 30;

    private final StoreClient client;
    private final String snapshot;
    private final String diskName;
    private final Path indexFile;
    private final FixedIndexReader index;
    private final CryptConfig crypt;
    private final List<ChunkCodec> codecs = new ArrayList<>();
    private final ThreadLocal<ChunkCodec> codec;
    /** Each fetching thread receives blobs into one reused buffer. */
    private final ThreadLocal<byte[]> blobs;
    private final ScheduledExecutorService heartbeat;
    private volatile String reader;
    private volatile boolean closed;

    private StoreChunks(StoreClient client, String snapshot, String diskName, Path indexFile, FixedIndexReader index,
            CryptConfig crypt, String reader) {
        this.client = client;
        this.snapshot = snapshot;
        this.diskName = diskName;
        this.indexFile = indexFile;
        this.index = index;
        this.crypt = crypt;
        this.reader = reader;
        int maxBlob = ChunkCodec.maxBlobLength(index.chunkSize());
        this.blobs = ThreadLocal.withInitial(() -> new byte[maxBlob]);
        this.codec = ThreadLocal.withInitial(() -> {
            ChunkCodec c = ChunkCodec.create(crypt);
            synchronized (codecs) {
                codecs.add(c);
            }
            return c;
        });
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "coffer-serve-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleWithFixedDelay(this::renew, HEARTBEAT_SECONDS, HEARTBEAT_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * Opens disk {@code diskName} of {@code snapshot} (already checked: {@code manifest}), taking a
     * reader lease.
     */
    public static StoreChunks open(StoreClient client, String snapshot, Manifest manifest, String diskName, CryptConfig crypt,
            Path workDir) throws IOException {
        ManifestDisk disk = manifest.disks().stream().filter(d -> d.name().equals(diskName)).findFirst()
                .orElseThrow(() -> new IOException("restore point " + snapshot + " has no disk '" + diskName + "'; it has: "
                        + String.join(", ", manifest.disks().stream().map(ManifestDisk::name).toList())));
        Path indexFile = Files.createTempFile(workDir, "serve-", ".fidx");
        FixedIndexReader index = null;
        try {
            Files.write(indexFile, client.snapshotFile(snapshot, disk.index().file()));
            index = FixedIndexReader.open(indexFile);
            if (!index.checksum().equals(disk.index().checksum()) || index.imageSize() != disk.size()) {
                throw new FormatException.IndexChecksumMismatch("index " + disk.index().file() + " of " + snapshot,
                        "does not match the manifest's checksum or disk size");
            }
            String reader = client.openReader(snapshot).reader();
            return new StoreChunks(client, snapshot, diskName, indexFile, index, crypt, reader);
        } catch (IOException | RuntimeException e) {
            if (index != null) {
                index.close();
            }
            Files.deleteIfExists(indexFile);
            throw e;
        }
    }

    /** Convenience: checks the manifest of {@code snapshot} like a restore, then {@link #open}. */
    public static StoreChunks open(StoreClient client, String snapshot, String diskName, CryptConfig crypt, Path workDir)
            throws IOException {
        return open(client, snapshot, RestoreRun.manifest(client, snapshot, crypt), diskName, crypt, workDir);
    }

    public String diskName() {
        return diskName;
    }

    @Override
    public long size() {
        return index.imageSize();
    }

    @Override
    public int chunkSize() {
        return index.chunkSize();
    }

    @Override
    public boolean isZero(long chunk) throws IOException {
        return index.digest(chunk).isZero();
    }

    @Override
    public byte[] read(long chunk) throws IOException {
        Digest d = index.digest(chunk);
        int len = index.chunkLength(chunk);
        long offset = chunk * index.chunkSize();
        if (d.isZero()) {
            return new byte[len];
        }
        byte[] blob = blobs.get();
        int blobLength = client.readChunkInto(reader, d, blob);
        try {
            byte[] plain = new byte[len]; // not pooled: the cache keeps it
            codec.get().decodeInto(blob, blobLength, d, len, plain);
            return plain;
        } catch (FormatException e) {
            throw new IOException("chunk " + d.hex() + " at offset " + offset + " of disk " + diskName + " is damaged: "
                    + e.getMessage(), e);
        }
    }

    private void renew() {
        if (closed) {
            return;
        }
        try {
            client.readerHeartbeat(reader);
        } catch (IOException e) {
            // the lease may have expired (the host slept): take a new one
            try {
                String fresh = client.openReader(snapshot).reader();
                reader = fresh;
                System.err.println("coffer serve: reader lease renewal failed (" + e.getMessage() + "); took a new lease");
            } catch (IOException e2) {
                System.err.println("coffer serve: cannot renew the reader lease of " + snapshot + ": " + e2.getMessage());
            }
        }
    }

    /** Releases the reader lease and deletes the index copy. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        heartbeat.shutdownNow();
        try {
            client.closeReader(reader);
        } catch (IOException e) {
            // the lease expires on its own
        } finally {
            synchronized (codecs) {
                codecs.forEach(ChunkCodec::close);
                codecs.clear();
            }
            index.close();
            Files.deleteIfExists(indexFile);
        }
    }
}
