package dev.coffer.agent.restore;

import dev.coffer.agent.backup.ChunkWorkers;
import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.DigestTable;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FormatException;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.store.api.StoreClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * Restores one disk of a restore point into a file or block device.
 *
 * <p>The manifest is checked first (for encrypted restore points its signature, under the key),
 * then the index (its checksum must be the manifest's). Under a reader lease, workers fetch
 * chunks in parallel within a bounded window, decode and verify each (the plaintext must hash to
 * its name — keyed for encrypted chunks — so a damaged or substituted chunk stops the restore
 * with its digest and offset), and write it at its offset. A chunk that occurs again is copied on
 * the target from its first place (read back and verified the same way) instead of fetched again.
 * Zero chunks are never fetched: on a fresh file they are left as holes, elsewhere they are
 * punched or written as zeros — never trimmed, since a trimmed range may not read back as zeros.
 */
public final class RestoreRun {

    /**
     * What was written, in the shape of {@code coffer restore --json}; {@code verified} only with
     * --verify. {@code reusedBytes} is the part of {@code writtenBytes} copied on the target from an
     * earlier place holding the same chunk instead of being fetched again.
     */
    public record DiskResult(String name, long writtenBytes, long zeroBytes, long reusedBytes, Boolean verified) {}

    public record Result(String snapshot, List<DiskResult> disks, double durationS) {}

    private RestoreRun() {}

    /** The manifest of {@code snapshot}, checked under {@code crypt} when it is encrypted. */
    public static Manifest manifest(StoreClient client, String snapshot, CryptConfig crypt) throws IOException {
        Manifest m = Manifest.parse(client.manifest(snapshot), "manifest of " + snapshot, crypt);
        if (m.encrypted()) {
            if (crypt == null) {
                throw new IOException("restore point " + snapshot + " is encrypted (key " + m.keyFingerprint().orElse("?")
                        + "): set COFFER_KEYFILE to its key file");
            }
            if (!m.signatureVerified()) {
                throw new IOException("restore point " + snapshot + " is encrypted with key " + m.keyFingerprint().orElse("?")
                        + ", not with the given key " + crypt.fingerprint());
            }
        }
        return m;
    }

    /**
     * Restores disk {@code diskName} of {@code snapshot} to the file {@code to}.
     *
     * @param overwrite allow writing over a non-empty regular file
     */
    public static Result run(StoreClient client, String snapshot, String diskName, Path to, boolean overwrite, CryptConfig crypt,
            int workers, Path workDir, LongConsumer progress) throws IOException {
        return run(client, snapshot, diskName, size -> FileRestoreTarget.open(to, size, overwrite), crypt, workers, workDir, false,
                progress);
    }

    /** Restores disk {@code diskName} of {@code snapshot} to the target {@code opener} opens for the disk's size. */
    public static Result run(StoreClient client, String snapshot, String diskName, RestoreTarget.Opener opener, CryptConfig crypt,
            int workers, Path workDir, boolean verify, LongConsumer progress) throws IOException {
        long started = System.nanoTime();
        Manifest m = manifest(client, snapshot, crypt);
        ManifestDisk disk = m.disks().stream().filter(d -> d.name().equals(diskName)).findFirst()
                .orElseThrow(() -> new IOException("restore point " + snapshot + " has no disk '" + diskName + "'; it has: "
                        + String.join(", ", m.disks().stream().map(ManifestDisk::name).toList())));
        Path indexFile = Files.createTempFile(workDir, "restore-", ".fidx");
        try {
            Files.write(indexFile, client.snapshotFile(snapshot, disk.index().file()));
            try (FixedIndexReader index = FixedIndexReader.open(indexFile)) {
                if (!index.checksum().equals(disk.index().checksum()) || index.imageSize() != disk.size()) {
                    throw new FormatException.IndexChecksumMismatch("index " + disk.index().file() + " of " + snapshot,
                            "does not match the manifest's checksum or disk size");
                }
                String reader = client.openReader(snapshot).reader();
                try (RestoreTarget target = opener.open(disk.size())) {
                    DiskResult r = write(client, reader, index, target, crypt, workers, diskName, workDir, progress);
                    target.flush();
                    if (verify) {
                        verify(index, target, crypt, diskName);
                        r = new DiskResult(r.name(), r.writtenBytes(), r.zeroBytes(), r.reusedBytes(), true);
                    }
                    return new Result(snapshot, List.of(r), (System.nanoTime() - started) / 1e9);
                } finally {
                    try {
                        client.closeReader(reader);
                    } catch (IOException e) {
                        // the lease expires on its own
                    }
                }
            }
        } finally {
            Files.deleteIfExists(indexFile);
        }
    }

    /**
     * Reads the target back and checks every chunk's digest against the index: proof that what
     * the target now holds is the restore point, whatever the target's cache or driver did.
     */
    static void verify(FixedIndexReader index, RestoreTarget target, CryptConfig crypt, String diskName) throws IOException {
        byte[] buf = new byte[index.chunkSize()];
        try (ChunkCodec codec = ChunkCodec.create(crypt)) {
            for (long i = 0; i < index.chunkCount(); i++) {
                int len = index.chunkLength(i);
                long offset = i * index.chunkSize();
                target.read(offset, buf, len);
                Digest want = index.digest(i);
                Digest got = codec.digest(buf, 0, len);
                if (!got.equals(want)) {
                    throw new IOException("verify failed: disk " + diskName + " on " + target.describe() + " at offset " + offset
                            + " holds chunk " + got.shortHex() + ", the restore point has " + want.shortHex());
                }
            }
        }
    }

    private static DiskResult write(StoreClient client, String reader, FixedIndexReader index, RestoreTarget target, CryptConfig crypt,
            int workers, String diskName, Path workDir, LongConsumer progress) throws IOException {
        LongAdder written = new LongAdder();
        LongAdder reused = new LongAdder();
        long zero = 0;
        workers = Math.max(1, Math.min(workers, dev.coffer.agent.backup.InFlight.chunks(index.chunkSize()) / 2));
        ChunkWorkers<Void> window = new ChunkWorkers<>(crypt, workers, 2 * workers, "coffer-restore");
        // each worker receives and decodes into its own two buffers, reused for every chunk: a 4 MiB
        // array per blob and per decoded chunk kept the 192 MiB heap full of garbage
        int maxBlob = ChunkCodec.maxBlobLength(index.chunkSize());
        ThreadLocal<byte[]> blobs = ThreadLocal.withInitial(() -> new byte[maxBlob]);
        ThreadLocal<byte[]> plains = ThreadLocal.withInitial(() -> new byte[index.chunkSize()]);
        // where each data chunk was first written, on disk: bounded memory whatever the disk size;
        // and the first writes still in flight (at most the window), which a repeat waits for
        Map<Long, Future<Void>> writing = new HashMap<>();
        try (window; DigestTable first = DigestTable.create(workDir, 1024)) {
            for (long i = 0; i < index.chunkCount(); i++) {
                Digest d = index.digest(i);
                int len = index.chunkLength(i);
                long offset = i * index.chunkSize();
                if (d.isZero()) {
                    target.writeZeroes(offset, len);
                    zero += len;
                    progress.accept(len);
                    continue;
                }
                long earlier = first.putIfAbsent(d, offset) ? -1 : first.get(d);
                Future<Void> earlierWrite = earlier >= 0 ? writing.get(earlier) : null;
                Future<Void> f = window.submit(() -> {
                    byte[] plain = plains.get();
                    if (earlier >= 0 && written(earlierWrite) && copied(target, window.codec(), earlier, d, len, plain)) {
                        reused.add(len);
                    } else {
                        byte[] blob = blobs.get();
                        int blobLength = client.readChunkInto(reader, d, blob);
                        try {
                            window.codec().decodeInto(blob, blobLength, d, len, plain);
                        } catch (FormatException e) {
                            throw new IOException("chunk " + d.hex() + " at offset " + offset + " of disk " + diskName
                                    + " is damaged: " + e.getMessage(), e);
                        }
                    }
                    target.write(offset, plain, 0, len);
                    written.add(len);
                    progress.accept(len);
                    return null;
                });
                writing.values().removeIf(Future::isDone);
                if (earlier < 0) {
                    writing.put(offset, f);
                }
                while (window.full()) {
                    window.takeOldest();
                }
            }
            while (!window.isEmpty()) {
                window.takeOldest();
            }
            return new DiskResult(diskName, written.sum(), zero, reused.sum(), null);
        }
    }

    /** Waits for the first write of a repeated chunk (null: done already); false when it failed. */
    private static boolean written(Future<Void> firstWrite) {
        if (firstWrite == null) {
            return true;
        }
        try {
            firstWrite.get(); // submitted earlier, so running or done: FIFO workers never deadlock here
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return false; // the restore fails on that chunk; this one is fetched meanwhile
        }
    }

    /**
     * A chunk that occurs again is read back from where it was written first and used when it
     * hashes to its digest (keyed when encrypted), as a fetched chunk must: cheaper than fetching,
     * decompressing and (over TLS) decrypting it again, and restic fetches each blob once too. If
     * the first copy does not match (a target that lost it), the chunk is fetched.
     */
    static boolean copied(RestoreTarget target, ChunkCodec codec, long from, Digest d, int len, byte[] into) {
        try {
            target.read(from, into, len);
        } catch (IOException e) {
            return false; // fetched instead; a target that cannot be read fails its own write soon enough
        }
        return codec.digest(into, 0, len).equals(d);
    }

}
