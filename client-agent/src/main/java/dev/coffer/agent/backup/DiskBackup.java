package dev.coffer.agent.backup;

import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndex;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FixedIndexWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.LongConsumer;

/**
 * Backs up one disk: read → hash → (compress, encrypt) → upload, on all cores, with bounded memory.
 *
 * <p>The caller's thread reads chunks in order (sources are sequential devices at heart); a pool of
 * workers hashes each chunk, compares it with the base's digest at the same position, and encodes
 * and uploads only chunks whose digest is new. Digests are appended to the index in disk order
 * from a window of at most {@code 2 × workers} chunks in flight, so memory is
 * {@code O(workers × chunk size)} whatever the disk size, and the base is consulted one digest at a
 * time from its index file, never loaded. Chunks the source reports as zero are not read at all;
 * when the caller trusts the source's dirty bitmap, neither are clean chunks whose base digest is
 * usable (present and not flagged bad by the store): the base's digest is taken as it is.
 */
final class DiskBackup {

    private final ChunkSink sink;
    private final CryptConfig crypt;
    private final int chunkSize;
    private final int workers;
    private final LongConsumer progress;
    private final RecentDigests uploaded;
    private final boolean askKnown;

    DiskBackup(ChunkSink sink, CryptConfig crypt, int chunkSize, int workers, RecentDigests uploaded, boolean askKnown,
            LongConsumer progress) {
        this.uploaded = uploaded;
        this.askKnown = askKnown;
        this.sink = sink;
        this.crypt = crypt;
        this.chunkSize = chunkSize;
        this.workers = Math.min(workers, InFlight.chunks(chunkSize) / 2);
        this.progress = progress;
    }

    /**
     * Runs the pipeline and writes the disk's index to {@code indexOut}.
     *
     * @param base the base's index of the same disk, or null
     * @param baseBad base digests the store found bad: uploaded even where unchanged
     * @param trustClean take clean chunks ({@link ChunkSource#isClean}) from the base unread
     * @return the index's digest checksum
     */
    Digest run(ChunkSource source, Path indexOut, FixedIndexReader base, Set<Digest> baseBad, boolean trustClean, DiskStats stats)
            throws IOException {
        long size = source.size();
        long chunks = FixedIndex.chunkCount(size, chunkSize);
        ChunkWorkers<Digest> window = new ChunkWorkers<>(crypt, workers, 2 * workers, "coffer-backup");
        ChunkBuffers buffers = new ChunkBuffers(chunkSize, 2 * workers + 1);
        // one blob buffer per worker: a worker encodes, uploads and only then takes the next chunk
        ChunkBuffers blobs = new ChunkBuffers(ChunkCodec.maxBlobLength(chunkSize), workers);
        try (window; FixedIndexWriter index = FixedIndexWriter.create(indexOut, UUID.randomUUID(), Instant.now(), size, chunkSize)) {
            for (long i = 0; i < chunks; i++) {
                int len = FixedIndex.chunkLength(size, chunkSize, i);
                Digest baseDigest = null;
                if (source.isZeroChunk(i)) {
                    stats.zeroBytes.add(len);
                    stats.holeBytes.add(len);
                    window.addDone(Digest.ZERO);
                } else if (trustClean && base != null && i < base.chunkCount() && source.isClean(i)
                        && !baseBad.contains(baseDigest = base.digest(i))) {
                    if (baseDigest.isZero()) {
                        stats.zeroBytes.add(len); // zero in the base and untouched since
                    } else {
                        stats.reusedBytes.add(len);
                    }
                    window.addDone(baseDigest);
                } else {
                    byte[] buf = buffers.take();
                    int n = source.readChunk(i, buf);
                    if (n != len) {
                        throw new IOException("read " + n + " bytes of chunk " + i + " where " + len + " were expected");
                    }
                    stats.readBytes.add(n);
                    Digest compareWith = baseDigest != null ? baseDigest
                            : base != null && i < base.chunkCount() ? base.digest(i) : null;
                    window.submit(() -> process(window.codec(), buf, n, compareWith, baseBad, stats, buffers, blobs));
                }
                while (window.full()) {
                    index.append(window.takeOldest());
                }
                progress.accept(len);
            }
            while (!window.isEmpty()) {
                index.append(window.takeOldest());
            }
            return index.finish();
        }
    }

    /**
     * Names one chunk and, when it is new, encodes and uploads it. The read buffer goes back to
     * {@code buffers} as soon as the chunk is encoded (the upload sends the blob, not the chunk),
     * so the reader is not held up by the upload's round trip.
     */
    private Digest process(ChunkCodec codec, byte[] buf, int len, Digest baseDigest, Set<Digest> baseBad, DiskStats stats,
            ChunkBuffers buffers, ChunkBuffers blobs) throws IOException {
        byte[] blob = null;
        int blobLength;
        Digest d;
        try {
            d = codec.digest(buf, 0, len);
            if (d.isZero()) {
                stats.zeroBytes.add(len);
                return d;
            }
            if (d.equals(baseDigest) && !baseBad.contains(d)) {
                stats.reusedBytes.add(len);
                return d;
            }
            if (!uploaded.firstTime(d)) {
                stats.reusedBytes.add(len); // a repeat within this backup: uploaded once already
                return d;
            }
            if (askKnown && sink.known(d)) {
                stats.reusedBytes.add(len); // dedup-scope datastore: another group stored it already
                stats.knownChunks.increment();
                return d;
            }
            blob = blobs.take();
            blobLength = codec.encodeInto(buf, 0, len, blob);
        } catch (IOException | RuntimeException e) {
            if (blob != null) {
                blobs.give(blob);
            }
            throw e;
        } finally {
            buffers.give(buf);
        }
        try {
            boolean stored = sink.upload(d, len, blob, blobLength);
            stats.uploadedChunks.increment();
            stats.uploadedBytes.add(blobLength);
            if (stored) {
                stats.storedChunks.increment();
            }
            return d;
        } finally {
            blobs.give(blob);
        }
    }

}
