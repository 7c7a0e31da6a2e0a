package dev.coffer.agent.archive;

import dev.coffer.agent.backup.ChunkWorkers;
import dev.coffer.chunker.ArchiveWriter;
import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.DigestTable;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FormatException;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.ManifestFile;
import dev.coffer.store.api.StoreClient;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.LongConsumer;

/**
 * Writes one restore point of a store as a single-file archive on a stream (a file or a pipe).
 *
 * <p>Under a reader lease it fetches the manifest, the config blobs and the indexes (the header),
 * then walks the indexes disk by disk in chunk order and writes each non-zero digest's stored blob
 * once, exactly as the store holds it: an encrypted restore point stays ciphertext, and no key is
 * needed. Each blob's magic and CRC are checked before it is written, so a damaged chunk in the
 * store stops the export naming it instead of being archived. "Each digest once" is decided by a
 * {@link DigestTable} in a temp file, so memory does not grow with the disk. Chunks are fetched
 * in parallel within a bounded window and written in index order.
 */
public final class ArchiveExport {

    /**
     * What was exported, as {@code coffer export --json} prints it.
     *
     * @param records chunk records written (distinct non-zero digests)
     * @param duplicateChunks positions whose digest was already written
     * @param zeroChunks positions holding the zero digest (never stored)
     */
    public record Result(String snapshot, String archiveUuid, long bytes, long records, long recordBytes, long duplicateChunks,
            long zeroChunks, double durationS) {}

    private ArchiveExport() {}

    /** Exports {@code snapshot} into {@code out}; temp files (indexes, spool, digest table) go in {@code work}. */
    public static Result run(StoreClient client, String snapshot, OutputStream out, Path work, int workers, LongConsumer progress)
            throws IOException {
        long started = System.nanoTime();
        var opened = client.openReader(snapshot);
        String reader = opened.reader();
        try (Heartbeat beat = Heartbeat.start("coffer-export-heartbeat", opened.leaseS(), () -> client.readerHeartbeat(reader))) {
            byte[] manifestBytes = client.manifest(snapshot);
            Manifest m = Manifest.parse(manifestBytes, "manifest of " + snapshot, null);
            List<Path> indexes = new ArrayList<>();
            long positions = 0;
            UUID uuid = UUID.randomUUID();
            try (ArchiveWriter w = ArchiveWriter.start(out, uuid, Instant.now(), manifestBytes, work)) {
                for (ManifestFile f : m.files()) {
                    w.file(f.name(), client.snapshotFile(snapshot, f.name()));
                }
                for (ManifestDisk d : m.disks()) {
                    Path p = work.resolve(d.index().file());
                    client.downloadFile(snapshot, d.index().file(), p);
                    indexes.add(p);
                    try (FixedIndexReader r = FixedIndexReader.open(p)) {
                        if (!r.checksum().equals(d.index().checksum()) || r.imageSize() != d.size()) {
                            throw new FormatException.IndexChecksumMismatch("index " + d.index().file() + " of " + snapshot,
                                    "does not match the manifest's checksum or disk size");
                        }
                        positions += r.chunkCount();
                    }
                    w.file(d.index().file(), p);
                }
                long[] counts = new long[3]; // duplicates, zeros, record bytes
                try (DigestTable seen = DigestTable.create(work, positions)) {
                    for (int i = 0; i < indexes.size(); i++) {
                        writeDisk(client, reader, indexes.get(i), m.disks().get(i).name(), w, seen, workers, counts, progress);
                    }
                }
                long length = w.finish();
                return new Result(snapshot, uuid.toString(), length, w.records(), counts[2], counts[0], counts[1],
                        (System.nanoTime() - started) / 1e9);
            } finally {
                for (Path p : indexes) {
                    Files.deleteIfExists(p);
                }
            }
        } finally {
            try {
                client.closeReader(reader);
            } catch (IOException e) {
                // the lease expires on its own
            }
        }
    }

    private record Fetched(Digest digest, int length, byte[] blob) {}

    private static void writeDisk(StoreClient client, String reader, Path indexFile, String disk, ArchiveWriter w, DigestTable seen,
            int workers, long[] counts, LongConsumer progress) throws IOException {
        try (FixedIndexReader index = FixedIndexReader.open(indexFile);
                ChunkWorkers<Fetched> window = new ChunkWorkers<>(null, workers, 2 * workers, "coffer-export")) {
            for (long i = 0; i < index.chunkCount(); i++) {
                Digest d = index.digest(i);
                int len = index.chunkLength(i);
                long offset = i * index.chunkSize();
                if (d.isZero()) {
                    counts[1]++;
                    progress.accept(len);
                    continue;
                }
                if (!seen.putIfAbsent(d, 1)) {
                    counts[0]++;
                    progress.accept(len);
                    continue;
                }
                window.submit(() -> {
                    byte[] blob = client.readChunk(reader, d);
                    ChunkCodec.check(blob, "chunk " + d.hex() + " at offset " + offset + " of disk " + disk + " in the store");
                    return new Fetched(d, len, blob);
                });
                while (window.full()) {
                    write(w, window.takeOldest(), counts, progress);
                }
            }
            while (!window.isEmpty()) {
                write(w, window.takeOldest(), counts, progress);
            }
        }
    }

    private static void write(ArchiveWriter w, Fetched f, long[] counts, LongConsumer progress) throws IOException {
        w.chunk(f.digest(), f.length(), f.blob());
        counts[2] += f.blob().length;
        progress.accept(f.length());
    }
}
