package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Known answers for the single-file archive format, and a round trip through every reader. */
final class ArchiveFormatTest {

    private static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path dir;

    @Test
    void shouldPinTheBytesOfASmallPlainArchive() throws Exception {
        ArchiveSample s = ArchiveSample.build(dir, null);
        // the first frame header: sync magic, uuid, kind 1 (header), zero, payload length
        int headerPayload = 16 + s.manifest.length;
        assertThat(HEX.formatHex(s.bytes, 0, 32)).isEqualTo("1ab7ec3f2be72b3b" + "c0ffee0012344abc8def0123456789ab" + "01000000"
                + HEX.formatHex(new byte[] {(byte) headerPayload, (byte) (headerPayload >>> 8), 0, 0}));
        // header payload: version 1, reserved, created (2026-11-23T12:00:00Z = 1795435200 = 0x6b042ac0), manifest
        assertThat(HEX.formatHex(s.bytes, 32, 48)).isEqualTo("01000000" + "00000000" + "c02a046b00000000");
        assertThat(Bytes.getLongLE(s.bytes, 40)).isEqualTo(ArchiveSample.CREATED.getEpochSecond());
        // its CRC32C covers uuid .. end of payload
        CRC32C crc = new CRC32C();
        crc.update(s.bytes, 8, 24 + headerPayload);
        assertThat(Bytes.getIntLE(s.bytes, 32 + headerPayload)).isEqualTo((int) crc.getValue());
        // the end frame: record count, trailer offset, archive length
        int end = s.bytes.length - FileFormats.ARCHIVE_END_FRAME_LENGTH;
        assertThat(s.bytes[end + 24]).isEqualTo((byte) 5);
        assertThat(Bytes.getLongLE(s.bytes, end + 32)).isEqualTo(3);
        assertThat(Bytes.getLongLE(s.bytes, end + 40)).isEqualTo(s.trailerOffset);
        assertThat(Bytes.getLongLE(s.bytes, end + 48)).isEqualTo(s.bytes.length);
        // the first chunk record: digest, plain length, blob exactly as stored
        long r0 = s.offsets.getFirst();
        Digest d0 = s.blobs.keySet().iterator().next();
        assertThat(s.bytes[(int) r0 + 24]).isEqualTo((byte) 3);
        assertThat(Digest.of(s.bytes, (int) r0 + 32)).isEqualTo(d0);
        assertThat(Bytes.getIntLE(s.bytes, (int) r0 + 64)).isEqualTo(ArchiveSample.CS);
        // and the whole archive
        assertThat(s.bytes.length).isEqualTo(KAT_PLAIN_LENGTH);
        assertThat(TestData.sha256Hex(s.bytes)).isEqualTo(KAT_PLAIN_SHA256);
    }

    static final int KAT_PLAIN_LENGTH = 84167;
    static final String KAT_PLAIN_SHA256 = "d974a5a5f804c1269ecae40cca57ab987602d4497e8ab0d44069f974f7251b71";

    @Test
    void shouldPinTheBytesOfASmallEncryptedArchive() throws Exception {
        CryptConfig key = CryptConfig.fromMasterKey(TestData.katMasterKey());
        ArchiveSample s = ArchiveSample.build(dir, key);
        // the blobs are the encrypted blobs as stored: the archive holds no plaintext of the disk
        for (byte[] blob : s.blobs.values()) {
            assertThat(BlobKind.fromMagic(blob).encrypted()).isTrue();
        }
        assertThat(indexOf(s.bytes, java.util.Arrays.copyOf(s.image, 64))).isEqualTo(-1);
        assertThat(s.bytes.length).isEqualTo(KAT_ENCRYPTED_LENGTH);
        assertThat(TestData.sha256Hex(s.bytes)).isEqualTo(KAT_ENCRYPTED_SHA256);
    }

    static final int KAT_ENCRYPTED_LENGTH = 84348;
    static final String KAT_ENCRYPTED_SHA256 = "30c0929e19afea0f6fdbd52f2457d8c9df398836a280bf4eaa0b84a083ab0806";

    @Test
    void shouldReadBackHeaderFilesAndEveryRecordOnceFromAStream() throws Exception {
        ArchiveSample s = ArchiveSample.build(dir, null);
        ArchiveReader r = ArchiveReader.open(new ByteArrayInputStream(s.bytes), "kat.cfa", false);
        ArchiveReader.Header h = r.readHeader(dir.resolve("h"));
        assertThat(h.uuid()).isEqualTo(ArchiveSample.UUID_);
        assertThat(h.created()).isEqualTo(ArchiveSample.CREATED);
        assertThat(h.manifestBytes()).isEqualTo(s.manifest);
        assertThat(h.files().keySet()).containsExactly("domain.xml", "drive0.fidx");
        assertThat(Files.readAllBytes(h.files().get("drive0.fidx"))).isEqualTo(s.index);
        assertThat(Files.readAllBytes(h.files().get("domain.xml"))).isEqualTo(ArchiveSample.XML);
        List<Digest> seen = new java.util.ArrayList<>();
        for (ArchiveReader.Record rec; (rec = r.nextRecord()) != null; ) {
            assertThat(rec.blob()).isEqualTo(s.blobs.get(rec.digest()));
            seen.add(rec.digest());
        }
        assertThat(seen).containsExactlyElementsOf(s.blobs.keySet()).hasSize(3);
        ArchiveReader.Summary sum = r.finish();
        assertThat(sum.records()).isEqualTo(3);
        assertThat(sum.length()).isEqualTo(s.bytes.length);
        assertThat(sum.damage()).isEmpty();
    }

    @Test
    void shouldFindEveryRecordThroughTheTrailerOfAFile() throws Exception {
        ArchiveSample s = ArchiveSample.build(dir, null);
        Path file = Files.write(dir.resolve("a.cfa"), s.bytes);
        try (ArchiveFile f = ArchiveFile.open(file, ArchiveSample.UUID_); DigestTable t = DigestTable.create(dir, 1)) {
            assertThat(f.loadTrailer(t)).isEqualTo(3);
            int i = 0;
            for (Map.Entry<Digest, byte[]> e : s.blobs.entrySet()) {
                assertThat(t.get(e.getKey())).isEqualTo(s.offsets.get(i++));
                assertThat(f.record(t.get(e.getKey()), e.getKey()).blob()).isEqualTo(e.getValue());
            }
            assertThat(t.get(Digest.ZERO)).isEqualTo(-1);
        }
    }

    @Test
    void shouldWriteAnEmptyTrailerFrameForAnArchiveWithoutRecords() throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ArchiveSample s = ArchiveSample.build(dir, null);
        try (ArchiveWriter w = ArchiveWriter.start(out, ArchiveSample.UUID_, ArchiveSample.CREATED, s.manifest, dir)) {
            w.file("domain.xml", ArchiveSample.XML);
            w.file("drive0.fidx", s.index);
            w.finish();
        }
        ArchiveReader r = ArchiveReader.open(new ByteArrayInputStream(out.toByteArray()), "empty.cfa", false);
        r.readHeader(dir.resolve("e"));
        assertThat(r.nextRecord()).isNull();
        assertThat(r.finish().records()).isZero();
        try (var files = Files.list(dir)) {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith("archive-trailer-"))).as("spool deleted").isEmpty();
        }
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
