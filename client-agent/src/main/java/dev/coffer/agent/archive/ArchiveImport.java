package dev.coffer.agent.archive;

import dev.coffer.chunker.ArchiveReader;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.ManifestFile;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.ApiTypes.BeginBackupRequest;
import dev.coffer.store.api.ApiTypes.BeginBackupResponse;
import dev.coffer.store.api.StoreClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;
import java.util.ArrayDeque;

/**
 * Loads an archive from a stream (a file or a pipe) into a store, as a restore point with its
 * original group and time.
 *
 * <p>It reads the archive strictly, front to back, so it works on a pipe: the header first (the
 * manifest, config blobs and indexes go to temp files), then it opens an <em>import session</em>
 * (docs/api.md) and uploads the indexes and config blobs, then uploads every chunk record as it
 * arrives, several in flight. The server checks each upload like a backup's (CRC, and for plaintext
 * the digest and length) and stores only chunks it lacks ({@code kept} otherwise). Only after the
 * trailer and end frame have proved the archive whole does it send {@code finish}, which publishes
 * atomically; any damage or refusal aborts the session, and nothing is published.
 */
public final class ArchiveImport {

    /** What was imported, as {@code coffer import --json} prints it; {@code bytes} is the archive's length. */
    public record Result(String snapshot, long records, long storedChunks, long keptChunks, long bytes, double durationS) {}

    private ArchiveImport() {}

    /** Imports the archive {@code in} (named {@code name} in messages) into the store of {@code client}. */
    public static Result run(StoreClient client, InputStream in, String name, Path work, int workers, LongConsumer progress)
            throws IOException {
        long started = System.nanoTime();
        ArchiveReader reader = ArchiveReader.open(in, name, false);
        ArchiveReader.Header h = reader.readHeader(work);
        try {
            Manifest m = h.manifest();
            SnapshotId id = m.snapshot();
            BeginBackupResponse begin = client.beginBackup(new BeginBackupRequest(id.ns(), id.type() + "/" + id.id(),
                    SnapshotId.formatTime(id.time()), m.encrypted() ? "encrypt" : "none", m.keyFingerprint().orElse(null), true));
            String session = begin.session();
            boolean published = false;
            try {
                if (begin.chunkSize() != m.chunkSize()) {
                    throw new IOException("the archive's restore point " + id + " uses chunk size " + m.chunkSize()
                            + " but the datastore uses " + begin.chunkSize() + "; import it into a datastore with that chunk size");
                }
                for (ManifestDisk d : m.disks()) {
                    client.uploadFile(session, d.index().file(), h.files().get(d.index().file()));
                }
                for (ManifestFile f : m.files()) {
                    client.uploadFile(session, f.name(), Files.readAllBytes(h.files().get(f.name())));
                }
                LongAdder stored = new LongAdder();
                LongAdder kept = new LongAdder();
                long records = upload(client, session, reader, workers, stored, kept, progress);
                long length = reader.finish().length();
                client.finish(session, h.manifestBytes());
                published = true;
                return new Result(id.path(), records, stored.sum(), kept.sum(), length, (System.nanoTime() - started) / 1e9);
            } finally {
                if (!published) {
                    try {
                        client.abort(session);
                    } catch (IOException e) {
                        // the session expires on its own and publishes nothing
                    }
                }
            }
        } finally {
            for (Path p : h.files().values()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static long upload(StoreClient client, String session, ArchiveReader reader, int workers, LongAdder stored,
            LongAdder kept, LongConsumer progress) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "coffer-import");
            t.setDaemon(true);
            return t;
        });
        ArrayDeque<Future<?>> window = new ArrayDeque<>();
        long records = 0;
        try {
            for (ArchiveReader.Record r; (r = reader.nextRecord()) != null; ) {
                ArchiveReader.Record rec = r;
                window.add(pool.submit(() -> {
                    String outcome = client.uploadChunk(session, rec.digest(), rec.plainLength(), rec.blob()).outcome();
                    ("kept".equals(outcome) ? kept : stored).increment();
                    progress.accept(rec.blob().length);
                    return null;
                }));
                records++;
                while (window.size() >= 2 * workers) {
                    await(window.poll());
                }
            }
            while (!window.isEmpty()) {
                await(window.poll());
            }
            return records;
        } finally {
            window.forEach(f -> f.cancel(true));
            pool.shutdownNow();
        }
    }

    private static void await(Future<?> f) throws IOException {
        try {
            f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while uploading");
        }
    }
}
