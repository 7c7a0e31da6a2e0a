package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged archives: the strict reader names what is wrong and where; the salvaging reader still
 * returns every record whose frame is intact, and says which byte ranges it skipped.
 */
final class ArchiveCorruptionTest {

    @TempDir
    Path dir;
    ArchiveSample s;
    int n;

    @BeforeEach
    void build() throws Exception {
        s = ArchiveSample.build(dir, null);
        n = 0;
    }

    private Path sub() {
        return dir.resolve("h" + n++);
    }

    private byte[] flip(long at) {
        byte[] b = s.bytes.clone();
        b[(int) at] ^= 0x40;
        return b;
    }

    private Map<Digest, byte[]> strict(byte[] b) throws Exception {
        return ArchiveSample.records(b, false, sub());
    }

    private Map<Digest, byte[]> salvage(byte[] b) throws Exception {
        return ArchiveSample.records(b, true, sub());
    }

    private Map<Digest, byte[]> without(int record) {
        Map<Digest, byte[]> m = new java.util.LinkedHashMap<>(s.blobs);
        m.remove(m.keySet().stream().skip(record).findFirst().orElseThrow());
        return m;
    }

    @Test
    void shouldNameTheHeaderWhenItsManifestIsFlipped() {
        byte[] b = flip(100);
        assertThatThrownBy(() -> strict(b)).isInstanceOf(FormatException.CrcMismatch.class)
                .hasMessageContaining("archive test.cfa at offset 0").hasMessageContaining("header frame CRC32C mismatch");
    }

    @Test
    void shouldSalvageEveryRecordWhenTheHeaderIsDamaged() throws Exception {
        ArchiveReader r = ArchiveReader.open(new ByteArrayInputStream(flip(100)), "test.cfa", true);
        ArchiveReader.Header h = r.readHeader(sub());
        assertThat(h.manifest()).as("the manifest frame is lost").isNull();
        assertThat(h.files()).containsOnlyKeys("domain.xml", "drive0.fidx");
        int count = 0;
        while (r.nextRecord() != null) {
            count++;
        }
        assertThat(count).isEqualTo(3);
        ArchiveReader.Summary sum = r.finish();
        assertThat(sum.damage()).hasSize(1);
        assertThat(sum.damage().getFirst().offset()).isZero();
        assertThat(sum.damage().getFirst().reason()).contains("header frame CRC32C mismatch");
    }

    @Test
    void shouldNameTheRecordWhoseBlobIsFlippedAndSalvageTheOthers() throws Exception {
        long r1 = s.offsets.get(1);
        byte[] b = flip(r1 + 32 + 36 + 500);
        assertThatThrownBy(() -> strict(b)).isInstanceOf(FormatException.CrcMismatch.class)
                .hasMessageContaining("at offset " + r1).hasMessageContaining("chunk frame CRC32C mismatch");
        Map<Digest, byte[]> got = salvage(b);
        assertThat(got).containsOnlyKeys(without(1).keySet());
        got.forEach((d, blob) -> assertThat(blob).isEqualTo(s.blobs.get(d)));
    }

    @Test
    void shouldNameAFlippedSyncMarker() throws Exception {
        long r2 = s.offsets.get(2);
        byte[] b = flip(r2 + 3);
        assertThatThrownBy(() -> strict(b)).isInstanceOf(FormatException.BadMagic.class)
                .hasMessageContaining("at offset " + r2).hasMessageContaining("no archive sync marker");
        assertThat(salvage(b)).containsOnlyKeys(without(2).keySet());
    }

    @Test
    void shouldNameADamagedTrailerAndStillSalvageAllRecords() throws Exception {
        byte[] b = flip(s.trailerOffset + 40);
        assertThatThrownBy(() -> strict(b)).isInstanceOf(FormatException.CrcMismatch.class)
                .hasMessageContaining("at offset " + s.trailerOffset).hasMessageContaining("trailer frame");
        assertThat(salvage(b)).containsOnlyKeys(s.blobs.keySet());
        Path file = Files.write(dir.resolve("t.cfa"), b);
        try (ArchiveFile f = ArchiveFile.open(file, ArchiveSample.UUID_); DigestTable t = DigestTable.create(dir, 4)) {
            assertThatThrownBy(() -> f.loadTrailer(t)).isInstanceOf(FormatException.CrcMismatch.class)
                    .hasMessageContaining("t.cfa at offset " + s.trailerOffset);
        }
    }

    @Test
    void shouldNoticeATrailerThatDoesNotListTheRecordsEvenWithAValidCrc() throws Exception {
        // rewrite the trailer frame with the first two entries swapped: every CRC holds, the lie shows
        byte[] b = s.bytes.clone();
        int t = (int) s.trailerOffset + 32;
        byte[] e0 = Arrays.copyOfRange(b, t, t + 40);
        System.arraycopy(b, t + 40, b, t, 40);
        System.arraycopy(e0, 0, b, t + 40, 40);
        int len = Bytes.getIntLE(b, (int) s.trailerOffset + 28);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, (int) s.trailerOffset + 8, 24 + len);
        Bytes.putIntLE(b, t + len, (int) crc.getValue());
        assertThatThrownBy(() -> strict(b)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("trailer does not list the records");
    }

    @Test
    void shouldNameACutOutSectionAndSalvageWhatIsLeft() throws Exception {
        // cut from the middle of record 0 to the middle of record 1: both are lost, record 2 survives
        int from = (int) (s.offsets.get(0) + 1000);
        int to = (int) (s.offsets.get(1) + 1000);
        byte[] b = new byte[s.bytes.length - (to - from)];
        System.arraycopy(s.bytes, 0, b, 0, from);
        System.arraycopy(s.bytes, to, b, from, s.bytes.length - to);
        assertThatThrownBy(() -> strict(b)).isInstanceOf(FormatException.class).hasMessageContaining("at offset " + s.offsets.get(0));
        ArchiveReader r = ArchiveReader.open(new ByteArrayInputStream(b), "cut.cfa", true);
        r.readHeader(sub());
        java.util.List<Digest> got = new java.util.ArrayList<>();
        for (ArchiveReader.Record rec; (rec = r.nextRecord()) != null; ) {
            got.add(rec.digest());
        }
        assertThat(got).containsExactly(s.blobs.keySet().stream().skip(2).findFirst().orElseThrow());
        ArchiveReader.Summary sum = r.finish();
        assertThat(sum.damage()).hasSize(1);
        assertThat(sum.damage().getFirst().offset()).isEqualTo(s.offsets.get(0));
        assertThat(sum.damage().getFirst().length()).isEqualTo(s.offsets.get(2) - (to - from) - s.offsets.get(0));
    }

    @Test
    void shouldNameATruncationAndSalvageEveryWholeRecord() throws Exception {
        int cut = (int) (s.offsets.get(2) + 100); // inside the last record (the 100-byte tail)
        byte[] b = Arrays.copyOf(s.bytes, cut);
        assertThatThrownBy(() -> strict(b)).isInstanceOf(FormatException.Truncated.class)
                .hasMessageContaining("at offset " + cut).hasMessageContaining("chunk frame that starts at offset " + s.offsets.get(2));
        assertThat(salvage(b)).containsOnlyKeys(without(2).keySet());
        byte[] noEnd = Arrays.copyOf(s.bytes, s.bytes.length - FileFormats.ARCHIVE_END_FRAME_LENGTH);
        assertThatThrownBy(() -> strict(noEnd)).isInstanceOf(FormatException.Truncated.class)
                .hasMessageContaining("ends without its end frame");
        Path file = Files.write(dir.resolve("short.cfa"), noEnd);
        try (ArchiveFile f = ArchiveFile.open(file, ArchiveSample.UUID_); DigestTable t = DigestTable.create(dir, 4)) {
            assertThatThrownBy(() -> f.loadTrailer(t)).isInstanceOf(FormatException.class)
                    .hasMessageContaining("short.cfa at offset");
        }
    }

    @Test
    void shouldRefuseARecordFromAnotherArchiveAndDataAfterTheEnd() throws Exception {
        byte[] b = s.bytes.clone();
        b[(int) s.offsets.get(1).longValue() + 8] ^= 1; // the uuid of record 1
        assertThatThrownBy(() -> strict(b)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("at offset " + s.offsets.get(1)).hasMessageContaining("belongs to archive");
        byte[] longer = Arrays.copyOf(s.bytes, s.bytes.length + 100);
        assertThatThrownBy(() -> strict(longer)).isInstanceOf(FormatException.class)
                .hasMessageContaining("at offset " + s.bytes.length);
    }

    @Test
    void shouldKeepTheIntactPartsOfAFileWhoseMiddlePartIsDamaged() throws Exception {
        byte[] big = TestData.random(2 * FileFormats.ARCHIVE_FILE_PART_LENGTH + 5000, 3);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        long second;
        try (ArchiveWriter w = ArchiveWriter.start(out, ArchiveSample.UUID_, ArchiveSample.CREATED, s.manifest, dir)) {
            w.file("domain.xml", ArchiveSample.XML);
            w.file("drive0.fidx", s.index);
            w.file("big.bin", big.length, new ByteArrayInputStream(big));
            w.finish();
        }
        byte[] b = out.toByteArray();
        // frames: header, domain.xml, drive0.fidx, then big.bin's three parts
        second = 0;
        for (int frame = 0; frame < 4; frame++) {
            second += 36 + Bytes.getIntLE(b, (int) second + 28);
        }
        byte[] damaged = b.clone();
        damaged[(int) second + 5000] ^= 1;
        assertThatThrownBy(() -> ArchiveReader.open(new ByteArrayInputStream(damaged), "big.cfa", false).readHeader(sub()))
                .isInstanceOf(FormatException.CrcMismatch.class).hasMessageContaining("at offset " + second);
        ArchiveReader.Header h = ArchiveReader.open(new ByteArrayInputStream(damaged), "big.cfa", true).readHeader(sub());
        assertThat(h.files()).containsOnlyKeys("domain.xml", "drive0.fidx");
        ArchiveReader.Partial part = h.partial().get("big.bin");
        int p = FileFormats.ARCHIVE_FILE_PART_LENGTH;
        assertThat(part.gaps()).containsExactly(new ArchiveReader.Gap(p, p));
        byte[] kept = Files.readAllBytes(part.path());
        assertThat(kept).hasSize(big.length);
        assertThat(Arrays.copyOfRange(kept, 0, p)).isEqualTo(Arrays.copyOfRange(big, 0, p));
        assertThat(Arrays.copyOfRange(kept, 2 * p, big.length)).isEqualTo(Arrays.copyOfRange(big, 2 * p, big.length));
        assertThat(part.touchesGap(p - 32, 32)).isFalse();
        assertThat(part.touchesGap(p - 16, 32)).isTrue();
        assertThat(part.touchesGap(2 * p, 32)).isFalse();
    }

    @Test
    void shouldNotReadAFileFrameAsTheStartOfAnArchive() {
        byte[] b = Arrays.copyOfRange(s.bytes, (int) s.offsets.get(0).longValue(), s.bytes.length);
        assertThatThrownBy(() -> strict(b)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("starts with a chunk frame, not its header");
    }
}
