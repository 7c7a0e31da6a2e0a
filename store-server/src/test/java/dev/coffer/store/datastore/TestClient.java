package dev.coffer.store.datastore;

import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndex;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FixedIndexWriter;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestBuilder;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * What a backup client does, in-process and in the simplest way, so the session rules can be
 * tested without HTTP: hash every chunk, upload those not equal to the base at the same position,
 * upload the index, finish with a manifest.
 */
final class TestClient {

    private final Path work;
    private final int chunkSize;
    private final ChunkCodec codec = ChunkCodec.create(null);

    TestClient(Path work, int chunkSize) {
        this.work = work;
        this.chunkSize = chunkSize;
    }

    /** Uploads the chunks and index of one disk; returns the manifest entry for it. */
    ManifestDisk uploadDisk(BackupSession s, String name, byte[] image, Path baseIndex, boolean skipUploads) throws Exception {
        Path idxFile = Files.createTempFile(work, name, ".fidx");
        Files.delete(idxFile);
        long chunks = FixedIndex.chunkCount(image.length, chunkSize);
        Digest checksum;
        try (FixedIndexWriter w = FixedIndexWriter.create(idxFile, UUID.randomUUID(), Instant.now(), image.length, chunkSize);
                FixedIndexReader base = baseIndex == null ? null : FixedIndexReader.open(baseIndex)) {
            for (long i = 0; i < chunks; i++) {
                int len = FixedIndex.chunkLength(image.length, chunkSize, i);
                int off = (int) (i * chunkSize);
                Digest d = codec.digest(image, off, len);
                boolean reuse = base != null && i < base.chunkCount() && base.digest(i).equals(d)
                        && !s.baseBadDigests().contains(d);
                if (!d.isZero() && !reuse && !skipUploads) {
                    s.uploadChunk(d, codec.encode(image, off, len), len);
                }
                w.append(d);
            }
            checksum = w.finish();
        }
        long size = Files.size(idxFile);
        s.putIndex(name + ".fidx", idxFile);
        return new ManifestDisk(name, image.length, new ManifestDisk.IndexRef(name + ".fidx", size, checksum),
                s.base() == null ? ManifestDisk.Mode.FULL : ManifestDisk.Mode.DIFF, s.base() == null ? "no-base" : "no-bitmap",
                null, Map.of());
    }

    byte[] manifest(BackupSession s, ManifestDisk... disks) {
        ManifestBuilder b = Manifest.builder().snapshot(s.snapshot()).chunkSize(chunkSize).createdBy("test");
        if (s.base() != null) {
            b.parent(s.base());
        }
        for (ManifestDisk d : disks) {
            b.addDisk(d);
        }
        return b.sign(null).toBytes();
    }

    /** A whole backup of one disk named drive0. */
    SnapshotId backup(BackupSessions sessions, Datastore ds, String group, Instant time, byte[] image) throws Exception {
        BackupSession s = sessions.begin(dev.coffer.chunker.GroupId.parse(null, group), time, false, null, "tok1", false);
        Path base = s.base() == null ? null : ds.snapshotDir(s.base()).resolve("drive0.fidx");
        ManifestDisk d = uploadDisk(s, "drive0", image, base, false);
        SnapshotId id = s.finish(manifest(s, d));
        sessions.forget(s);
        return id;
    }
}
