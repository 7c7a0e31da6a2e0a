package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class FixedIndexTest {

    static final UUID KAT_UUID = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
    static final Instant KAT_CTIME = Instant.parse("2026-11-22T10:00:00Z");
    static final int KAT_CHUNK = 64 * 1024;
    static final long KAT_IMAGE = 2L * KAT_CHUNK + 100;

    @TempDir
    Path dir;

    static List<Digest> katDigests() {
        byte[] counting = new byte[32];
        for (int i = 0; i < 32; i++) {
            counting[i] = (byte) i;
        }
        return List.of(Digest.ZERO, ChunkDigester.plain().digest("a".getBytes(StandardCharsets.US_ASCII), 0, 1),
                Digest.of(counting));
    }

    static Digest write(Path target, UUID uuid, Instant ctime, long imageSize, int chunkSize, List<Digest> digests)
            throws IOException {
        try (FixedIndexWriter w = FixedIndexWriter.create(target, uuid, ctime, imageSize, chunkSize)) {
            for (Digest d : digests) {
                w.append(d);
            }
            return w.finish();
        }
    }

    static List<Digest> randomDigests(long seed, int n) {
        Random r = new Random(seed);
        List<Digest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[32];
            r.nextBytes(b);
            out.add(Digest.of(b));
        }
        return out;
    }

    private Path validIndex() throws IOException {
        Path p = dir.resolve("disk.fidx");
        write(p, KAT_UUID, KAT_CTIME, KAT_IMAGE, KAT_CHUNK, katDigests());
        return p;
    }

    private static void patch(Path p, long offset, byte[] bytes) throws IOException {
        byte[] all = Files.readAllBytes(p);
        System.arraycopy(bytes, 0, all, (int) offset, bytes.length);
        Files.write(p, all);
    }

    /** Rewrites the header CRC so a test reaches the checks after it. */
    private static void fixCrc(Path p) throws IOException {
        byte[] all = Files.readAllBytes(p);
        CRC32C crc = new CRC32C();
        crc.update(all, 0, FileFormats.INDEX_HEADER_CRC_OFFSET);
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putInt(FileFormats.INDEX_HEADER_CRC_OFFSET, (int) crc.getValue());
        Files.write(p, all);
    }

    @Test
    void shouldCountChunksByCeilingDivision() {
        assertThat(FixedIndex.chunkCount(0, KAT_CHUNK)).isZero();
        assertThat(FixedIndex.chunkCount(1, KAT_CHUNK)).isEqualTo(1);
        assertThat(FixedIndex.chunkCount(KAT_CHUNK, KAT_CHUNK)).isEqualTo(1);
        assertThat(FixedIndex.chunkCount(KAT_CHUNK + 1L, KAT_CHUNK)).isEqualTo(2);
        assertThat(FixedIndex.chunkCount(Long.MAX_VALUE, FileFormats.MAX_CHUNK_SIZE)).isEqualTo(1L << 41);
        assertThat(FixedIndex.fileLength(3)).isEqualTo(4096 + 96);
        assertThat(FixedIndex.chunkLength(KAT_IMAGE, KAT_CHUNK, 1)).isEqualTo(KAT_CHUNK);
        assertThat(FixedIndex.chunkLength(KAT_IMAGE, KAT_CHUNK, 2)).isEqualTo(100);
        assertThatThrownBy(() -> FixedIndex.chunkLength(KAT_IMAGE, KAT_CHUNK, 3)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 4096, 32 * 1024, 65537, 3 * 65536, 8 * 1024 * 1024})
    void shouldRejectInvalidChunkSize(int chunkSize) {
        assertThat(FixedIndex.isValidChunkSize(chunkSize)).isFalse();
        assertThatThrownBy(() -> FixedIndexWriter.create(dir.resolve("x"), KAT_UUID, KAT_CTIME, 10, chunkSize))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void shouldWriteTheDocumentedBytes() throws IOException {
        Path p = validIndex();
        List<Digest> digests = katDigests();
        ByteBuffer expected = ByteBuffer.allocate(4096 + 96).order(ByteOrder.LITTLE_ENDIAN);
        expected.put(HexFormat.of().parseHex("0a18adbf281c723f")).putInt(1).putInt(KAT_CHUNK);
        expected.put(HexFormat.of().parseHex("00112233445566778899aabbccddeeff"));
        expected.putLong(KAT_CTIME.getEpochSecond()).putLong(KAT_IMAGE);
        MessageDigest sha = ChunkDigester.sha256();
        digests.forEach(d -> sha.update(d.toBytes()));
        expected.put(sha.digest());
        CRC32C crc = new CRC32C();
        crc.update(expected.array(), 0, 4092);
        expected.putInt(4092, (int) crc.getValue());
        expected.position(4096);
        digests.forEach(d -> expected.put(d.toBytes()));

        assertThat(Files.readAllBytes(p)).isEqualTo(expected.array());
    }

    /** Pinned values were computed independently (Python hashlib and a bitwise CRC32C). */
    @Test
    void shouldMatchKnownAnswer() throws IOException {
        Digest checksum = write(dir.resolve("kat.fidx"), KAT_UUID, KAT_CTIME, KAT_IMAGE, KAT_CHUNK, katDigests());
        assertThat(checksum.hex()).isEqualTo("0894fe3b2439217f7d7e5b69a25215eb1fc2cb3a2ac11995de68a908d0765b7b");
        byte[] file = Files.readAllBytes(dir.resolve("kat.fidx"));
        assertThat(HexFormat.of().formatHex(ChunkDigester.sha256().digest(file))).isEqualTo("bfee5741ea240091c4e5d5c5d8e66bb8cac1ebdb37fd6b7e9c0d0b7c9be1c662");
        assertThat(HexFormat.of().formatHex(file, 4092, 4096)).isEqualTo("ab399f2c");
    }

    @Test
    void shouldRoundTrip() throws IOException {
        Path p = dir.resolve("big.fidx");
        int n = 70_000; // more than one read block of digests
        long imageSize = (long) (n - 1) * KAT_CHUNK + 1;
        List<Digest> digests = randomDigests(7, n);
        Instant ctime = Instant.parse("2030-01-02T03:04:05.678Z");
        UUID uuid = UUID.randomUUID();
        Digest checksum = write(p, uuid, ctime, imageSize, KAT_CHUNK, digests);

        try (FixedIndexReader r = FixedIndexReader.open(p)) {
            assertThat(r.uuid()).isEqualTo(uuid);
            assertThat(r.ctime()).isEqualTo(Instant.parse("2030-01-02T03:04:05Z"));
            assertThat(r.imageSize()).isEqualTo(imageSize);
            assertThat(r.chunkSize()).isEqualTo(KAT_CHUNK);
            assertThat(r.chunkCount()).isEqualTo(n);
            assertThat(r.checksum()).isEqualTo(checksum);
            assertThat(r.digest(0)).isEqualTo(digests.get(0));
            assertThat(r.digest(n - 1)).isEqualTo(digests.get(n - 1));
            assertThat(r.digest(40_000)).isEqualTo(digests.get(40_000));
            assertThat(r.chunkLength(n - 2)).isEqualTo(KAT_CHUNK);
            assertThat(r.chunkLength(n - 1)).isEqualTo(1);
            List<Digest> seen = new ArrayList<>();
            r.forEach((i, d) -> {
                assertThat(i).isEqualTo(seen.size());
                seen.add(d);
            });
            assertThat(seen).isEqualTo(digests);
            assertThatThrownBy(() -> r.digest(n)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> r.digest(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        }
        assertThat(dir).isDirectoryNotContaining("glob:**/.*tmp*");
    }

    @Test
    void shouldHandleEmptyImage() throws IOException {
        Path p = dir.resolve("empty.fidx");
        Digest checksum = write(p, KAT_UUID, KAT_CTIME, 0, KAT_CHUNK, List.of());
        assertThat(checksum.hex()).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(Files.size(p)).isEqualTo(4096);
        try (FixedIndexReader r = FixedIndexReader.open(p)) {
            assertThat(r.chunkCount()).isZero();
            r.forEach((i, d) -> {
                throw new AssertionError("no digests expected");
            });
        }
    }

    @Test
    void shouldDeleteTempFileWhenNotFinished() throws IOException {
        Path p = dir.resolve("failed.fidx");
        try (FixedIndexWriter w = FixedIndexWriter.create(p, KAT_UUID, KAT_CTIME, KAT_IMAGE, KAT_CHUNK)) {
            w.append(Digest.ZERO);
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files).singleElement().satisfies(t -> assertThat(t.getFileName().toString()).startsWith(".failed.fidx.tmp-"));
            }
            assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class).hasMessageContaining("needs 3 digests, got 1");
        }
        assertThat(p).doesNotExist();
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void shouldRejectTooManyDigests() throws IOException {
        try (FixedIndexWriter w = FixedIndexWriter.create(dir.resolve("x.fidx"), KAT_UUID, KAT_CTIME, 1, KAT_CHUNK)) {
            w.append(Digest.ZERO);
            assertThatThrownBy(() -> w.append(Digest.ZERO)).isInstanceOf(IllegalStateException.class);
        }
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void shouldRefuseToOverwriteAnIndex() throws IOException {
        Path p = validIndex();
        assertThatThrownBy(() -> FixedIndexWriter.create(p, KAT_UUID, KAT_CTIME, 0, KAT_CHUNK))
                .isInstanceOf(FileAlreadyExistsException.class);
    }

    @Test
    void shouldRefuseUseAfterFinish() throws IOException {
        try (FixedIndexWriter w = FixedIndexWriter.create(dir.resolve("x.fidx"), KAT_UUID, KAT_CTIME, 0, KAT_CHUNK)) {
            w.finish();
            assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> w.append(Digest.ZERO)).isInstanceOf(IllegalStateException.class);
        }
        assertThat(dir.resolve("x.fidx")).exists();
    }

    @Test
    void shouldRejectWrongMagic() throws IOException {
        Path p = validIndex();
        patch(p, 0, new byte[] {'n', 'o', 't', 'i', 'n', 'd', 'e', 'x'});
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.BadMagic.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("offset 0");
    }

    @Test
    void shouldRejectBadVersion() throws IOException {
        Path p = validIndex();
        patch(p, 8, new byte[] {2, 0, 0, 0});
        fixCrc(p);
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("offset 8 (version)").hasMessageContaining("version 2");
    }

    @Test
    void shouldRejectDamagedHeader() throws IOException {
        Path p = validIndex();
        patch(p, 40, new byte[] {1}); // image size, CRC not fixed
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.CrcMismatch.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("offset 4092");
    }

    @Test
    void shouldRejectChunkSizeOutOfRange() throws IOException {
        Path p = validIndex();
        patch(p, 12, new byte[] {0, 0, (byte) 0x80, 0}); // 8 MiB
        fixCrc(p);
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("offset 12 (chunk size)");
    }

    @Test
    void shouldRejectNonZeroReservedBytes() throws IOException {
        Path p = validIndex();
        patch(p, 1000, new byte[] {7});
        fixCrc(p);
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("offset 1000 (reserved)");
    }

    @Test
    void shouldRejectTruncatedIndex() throws IOException {
        Path p = validIndex();
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, all.length - 1));
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.Truncated.class)
                .hasMessageContaining("offset " + (all.length - 1));
        Files.write(p, Arrays.copyOf(all, 100));
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.Truncated.class)
                .hasMessageContaining("header");
        Files.write(p, new byte[0]);
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.Truncated.class);
    }

    @Test
    void shouldRejectExtraBytes() throws IOException {
        Path p = validIndex();
        Files.write(p, new byte[] {0}, StandardOpenOption.APPEND);
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.SizeMismatch.class)
                .hasMessageContaining("offset " + (4096 + 96));
    }

    @Test
    void shouldRejectDigestChecksumMismatch() throws IOException {
        Path p = validIndex();
        patch(p, 4096 + 40, new byte[] {(byte) 0xff});
        assertThatThrownBy(() -> FixedIndexReader.open(p)).isInstanceOf(FormatException.IndexChecksumMismatch.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("digest checksum");
    }
}
