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
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * Loads an archive from a stream (a file or a pipe) into a store, as a restore point with its
 * original group and time.
 *
 * <p>It reads the archive strictly, front to back, so it works on a pipe: the header first (the
 * manifest, config blobs and indexes go to temp files), then it opens an <em>import session</em>
 * (docs/api.md) and uploads the indexes and config blobs, then uploads every chunk record as it
 * arrives, several in flight. The server checks each upload like a backup's (CRC, and for plaintext
 * the digest and length) and stores only chunks it lacks ({@code kept} otherwise); with
 * {@code dedup-scope: datastore} a chunk the datastore holds is not even sent. Only after the
 * trailer and end frame have proved the archive whole does it send {@code finish}, which publishes
 * atomically; any damage or refusal aborts the session, and nothing is published.
 */
public final class ArchiveImport {

    /**
     * What was imported, as {@code coffer import --json} prints it.
     *
     * @param uploadedChunks records sent to the server (with {@code dedup-scope: datastore}, those it did not already hold)
     * @param storedChunks chunks the server stored (new to the datastore, or replacing a bad copy)
     * @param keptChunks chunks the datastore already held
     * @param bytes the archive's length
     */
    public record Result(String snapshot, long records, long uploadedChunks, long storedChunks, long keptChunks, long bytes,
            double durationS) {}

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
            try (Heartbeat beat = Heartbeat.start("coffer-import-heartbeat", begin.leaseS(), () -> client.heartbeat(session))) {
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
                LongAdder[] counts = {new LongAdder(), new LongAdder(), new LongAdder()}; // uploaded, stored, kept
                long records = upload(client, session, "datastore".equals(begin.dedupScope()), reader, workers, counts, progress);
                long length = reader.finish().length();
                client.finish(session, h.manifestBytes());
                published = true;
                return new Result(id.path(), records, counts[0].sum(), counts[1].sum(), counts[2].sum(), length,
                        (System.nanoTime() - started) / 1e9);
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

    /**
     * Uploads every record as it arrives, {@code 2 × workers} in flight. With {@code askKnown}
     * ({@code dedup-scope: datastore}) each digest is first offered to {@code known}, and a chunk
     * the datastore holds is not sent at all; otherwise the server answers {@code kept} for it.
     */
    private static long upload(StoreClient client, String session, boolean askKnown, ArchiveReader reader, int workers,
            LongAdder[] counts, LongConsumer progress) throws IOException {
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
                    if (askKnown && client.known(session, List.of(rec.digest())).getFirst()) {
                        counts[2].increment();
                    } else {
                        String outcome = client.uploadChunk(session, rec.digest(), rec.plainLength(), rec.blob()).outcome();
                        counts[0].increment();
                        counts["kept".equals(outcome) ? 2 : 1].increment();
                    }
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
