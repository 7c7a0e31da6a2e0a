package dev.coffer.chunker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A small deterministic archive for the archive tests: one disk of four 64 KiB chunks plus a
 * 100-byte tail (text, zeros, the text again, random, random tail), one config file, blobs from a
 * fixed-IV codec, a fixed uuid and time, so its bytes are the same on every run.
 */
final class ArchiveSample {

    static final UUID UUID_ = UUID.fromString("c0ffee00-1234-4abc-8def-0123456789ab");
    static final Instant CREATED = Instant.parse("2026-11-23T12:00:00Z");
    static final int CS = FileFormats.MIN_CHUNK_SIZE;
    static final long IMAGE = 4L * CS + 100;
    static final byte[] XML = "<domain><name>kat</name></domain>".getBytes(StandardCharsets.US_ASCII);

    final byte[] bytes;
    final byte[] image;
    final byte[] manifest;
    final byte[] index;
    /** digest → blob of each record, in record order. */
    final Map<Digest, byte[]> blobs = new LinkedHashMap<>();
    /** The archive offset of each record, in record order. */
    final List<Long> offsets = new ArrayList<>();
    final long trailerOffset;

    private ArchiveSample(byte[] bytes, byte[] image, byte[] manifest, byte[] index, long trailerOffset) {
        this.bytes = bytes;
        this.image = image;
        this.manifest = manifest;
        this.index = index;
        this.trailerOffset = trailerOffset;
    }

    static ArchiveSample build(Path dir, CryptConfig crypt) throws IOException {
        byte[] text = TestData.text(CS, 7);
        byte[] image = new byte[(int) IMAGE];
        System.arraycopy(text, 0, image, 0, CS);
        System.arraycopy(text, 0, image, 2 * CS, CS);
        System.arraycopy(TestData.random(CS + 100, 9), 0, image, 3 * CS, CS + 100);
        Path idx = dir.resolve("drive0.fidx");
        Files.deleteIfExists(idx);
        Map<Digest, byte[]> blobs = new LinkedHashMap<>();
        Map<Digest, Integer> lengths = new LinkedHashMap<>();
        Digest checksum;
        try (ChunkCodec codec = TestData.fixedIvCodec(crypt, true);
                FixedIndexWriter w = FixedIndexWriter.create(idx, UUID_, CREATED, IMAGE, CS)) {
            for (long i = 0; i < FixedIndex.chunkCount(IMAGE, CS); i++) {
                int len = FixedIndex.chunkLength(IMAGE, CS, i);
                Digest d = codec.digest(image, (int) (i * CS), len);
                w.append(d);
                if (!d.isZero() && !blobs.containsKey(d)) {
                    try (ChunkCodec fresh = TestData.fixedIvCodec(crypt, true)) { // GCM refuses a reused IV on one cipher
                        blobs.put(d, fresh.encode(image, (int) (i * CS), len));
                    }
                    lengths.put(d, len);
                }
            }
            checksum = w.finish();
        }
        byte[] index = Files.readAllBytes(idx);
        Manifest m = Manifest.builder().snapshot(SnapshotId.parsePath("vm/7/2026-11-22T10:00:00Z")).chunkSize(CS)
                .addDisk(new ManifestDisk("drive0", IMAGE, new ManifestDisk.IndexRef("drive0.fidx", index.length, checksum),
                        ManifestDisk.Mode.FULL, "no-base", null, Map.of()))
                .addFile(new ManifestFile("domain.xml", XML.length, Digest.of(ChunkDigester.sha256().digest(XML))))
                .createdBy("archive test").sign(crypt);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Long> offsets = new ArrayList<>();
        long trailer;
        try (ArchiveWriter w = ArchiveWriter.start(out, UUID_, CREATED, m.toBytes(), dir)) {
            w.file("domain.xml", XML);
            w.file("drive0.fidx", idx);
            for (Map.Entry<Digest, byte[]> e : blobs.entrySet()) {
                offsets.add(w.offset());
                w.chunk(e.getKey(), lengths.get(e.getKey()), e.getValue());
            }
            trailer = w.offset();
            w.finish();
        }
        Files.delete(idx);
        ArchiveSample s = new ArchiveSample(out.toByteArray(), image, m.toBytes(), index, trailer);
        s.blobs.putAll(blobs);
        s.offsets.addAll(offsets);
        return s;
    }

    /** The records a reader returns from {@code archive}, digest → blob, reading it strictly or salvaging. */
    static Map<Digest, byte[]> records(byte[] archive, boolean salvage, Path dir) throws IOException {
        ArchiveReader r = ArchiveReader.open(new java.io.ByteArrayInputStream(archive), "test.cfa", salvage);
        r.readHeader(dir);
        Map<Digest, byte[]> out = new LinkedHashMap<>();
        for (ArchiveReader.Record rec; (rec = r.nextRecord()) != null; ) {
            out.put(rec.digest(), rec.blob());
        }
        r.finish();
        return out;
    }
}
