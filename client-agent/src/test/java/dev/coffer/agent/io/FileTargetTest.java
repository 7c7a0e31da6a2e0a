package dev.coffer.agent.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coffer.chunker.ChunkDigester;
import dev.coffer.chunker.NativeFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class FileTargetTest {

    private static final int CHUNK = 64 * 1024;

    @TempDir
    Path dir;

    /** What a restore does with each chunk: holes and zero chunks become zeros, the rest is written. */
    private static void copy(FileSource source, FileTarget target) throws IOException {
        ChunkMap map = source.chunkMap(CHUNK);
        byte[] buf = new byte[CHUNK];
        for (long i = 0; i < map.chunkCount(); i++) {
            long offset = i * CHUNK;
            if (map.isHole(i)) {
                target.writeZeroes(offset, Math.min(CHUNK, source.size() - offset));
                continue;
            }
            int length = source.readChunk(i, CHUNK, buf);
            if (ChunkDigester.isAllZero(buf, 0, length)) {
                target.writeZeroes(offset, length);
            } else {
                target.write(offset, buf, 0, length);
            }
        }
    }

    @Test
    void shouldRestoreASparseFileByteForByteAndKeepItsHoles() throws Exception {
        int size = 32 * CHUNK + 123;
        SparseImage image = SparseImage.ofSize(size).data(CHUNK + 7, 1000).data(20 * CHUNK, CHUNK).data(32 * CHUNK, 123);
        Path from = image.writeTo(dir.resolve("from.img"));
        Path to = dir.resolve("to.img");
        try (FileSource source = FileSource.open(from);
                FileTarget target = FileTarget.open(to, size, false)) {
            copy(source, target);
            target.flush();
            assertThat(target.holesPunched()).isZero(); // a fresh file is one hole already
        }
        assertThat(Files.mismatch(from, to)).isEqualTo(-1);
        try (NativeFile restored = NativeFile.openReadOnly(to)) {
            assertThat(restored.seekData(0)).isBetween((long) CHUNK, CHUNK + 7L);
            assertThat(restored.seekData(2L * CHUNK)).isEqualTo(20L * CHUNK);
            assertThat(restored.seekHole(20L * CHUNK)).isEqualTo(21L * CHUNK);
            assertThat(restored.seekData(21L * CHUNK)).isBetween(32L * CHUNK, (long) size);
        }
    }

    @Test
    void shouldPunchWrittenRangesBackToHolesThatReadAsZeros() throws Exception {
        Path to = dir.resolve("to.img");
        byte[] ones = new byte[4 * CHUNK];
        Arrays.fill(ones, (byte) 1);
        try (FileTarget target = FileTarget.open(to, 8L * CHUNK, false)) {
            target.write(0, ones, 0, ones.length);
            assertThat(target.readsZeroes(CHUNK, 2L * CHUNK)).isFalse();
            target.writeZeroes(CHUNK, 2L * CHUNK);
            assertThat(target.holesPunched()).isEqualTo(1);
            assertThat(target.readsZeroes(CHUNK, 2L * CHUNK)).isTrue();
            target.flush();
        }
        byte[] back = Files.readAllBytes(to);
        assertThat(back).hasSize(8 * CHUNK);
        assertThat(Arrays.copyOfRange(back, 0, CHUNK)).containsOnly(1);
        assertThat(Arrays.copyOfRange(back, CHUNK, 3 * CHUNK)).containsOnly(0);
        assertThat(Arrays.copyOfRange(back, 3 * CHUNK, 4 * CHUNK)).containsOnly(1);
        try (NativeFile restored = NativeFile.openReadOnly(to)) {
            assertThat(restored.seekHole(0)).isEqualTo(CHUNK);
            assertThat(restored.seekData(CHUNK)).isEqualTo(3L * CHUNK);
        }
    }

    @Test
    void shouldLeaveAFreshFileAloneForZeroes() throws Exception {
        Path to = dir.resolve("to.img");
        try (FileTarget target = FileTarget.open(to, 5L * CHUNK + 1, false)) {
            assertThat(target.readsZeroes(0, target.size())).isTrue();
            target.writeZeroes(0, target.size());
            assertThat(target.holesPunched()).isZero();
            target.flush();
        }
        assertThat(Files.size(to)).isEqualTo(5L * CHUNK + 1);
        assertThat(Files.readAllBytes(to)).containsOnly(0);
    }

    @Test
    void shouldRefuseToOverwriteANonEmptyFile() throws Exception {
        Path to = Files.writeString(dir.resolve("precious.img"), "precious");
        assertThatThrownBy(() -> FileTarget.open(to, 4L * CHUNK, false))
                .isInstanceOf(FileAlreadyExistsException.class)
                .hasMessageContaining(to.toString())
                .hasMessageContaining("holds 8 bytes")
                .hasMessageContaining("overwrite");
        assertThat(Files.readString(to)).isEqualTo("precious");
    }

    @Test
    void shouldReplaceAFileWithOneHoleWhenToldToOverwrite() throws Exception {
        Path to = Files.write(dir.resolve("old.img"), filled(3 * CHUNK, (byte) 5));
        try (FileTarget target = FileTarget.open(to, 2L * CHUNK, true)) {
            assertThat(target.readsZeroes(0, 2L * CHUNK)).isTrue();
        }
        assertThat(Files.size(to)).isEqualTo(2L * CHUNK);
        assertThat(Files.readAllBytes(to)).containsOnly(0);
        try (NativeFile restored = NativeFile.openReadOnly(to)) {
            assertThat(restored.seekData(0)).isEqualTo(-1);
        }
    }

    @Test
    void shouldAcceptAnEmptyExistingFile() throws Exception {
        Path to = Files.createFile(dir.resolve("empty.img"));
        try (FileTarget target = FileTarget.open(to, CHUNK, false)) {
            target.write(10, "x".getBytes(StandardCharsets.US_ASCII), 0, 1);
        }
        assertThat(Files.size(to)).isEqualTo(CHUNK);
    }

    @Test
    void shouldRefuseWritesOutsideTheDisk() throws Exception {
        try (FileTarget target = FileTarget.open(dir.resolve("to.img"), CHUNK, false)) {
            assertThatThrownBy(() -> target.write(CHUNK - 1, new byte[2], 0, 2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside");
            assertThatThrownBy(() -> target.writeZeroes(-1, 1)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldRefuseADirectory() {
        assertThatThrownBy(() -> FileTarget.open(dir, CHUNK, true))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("a directory");
    }

    @Test
    void shouldWriteAlignedChunksPastThePageCacheAndAnUnalignedTailThroughIt() throws Exception {
        assumeTrue(!"tmpfs".equals(Files.getFileStore(dir).type()), "the test directory must be on a disk filesystem");
        byte[] data = new byte[3 * DirectWriter.STEP + 4096 + 777];
        new Random(7).nextBytes(data);
        Path to = dir.resolve("to.img");
        try (FileTarget target = FileTarget.open(to, data.length, false)) {
            assertThat(target.writesDirect()).isTrue();
            target.write(0, data, 0, 2 * DirectWriter.STEP + 4096); // aligned: O_DIRECT, in three steps
            target.write(2L * DirectWriter.STEP + 4096, data, 2 * DirectWriter.STEP + 4096, DirectWriter.STEP + 777); // unaligned: page cache
            target.flush();
        }
        assertThat(Files.readAllBytes(to)).isEqualTo(data);
    }

    @Test
    void shouldRefuseUnalignedDirectWritesAndWriteNothing() throws Exception {
        Path to = dir.resolve("to.img");
        Files.write(to, new byte[3 * DirectWriter.ALIGNMENT]);
        byte[] ones = filled(2 * DirectWriter.ALIGNMENT, (byte) 1);
        try (DirectWriter direct = DirectWriter.open(to)) {
            assertThat(direct).isNotNull();
            assertThat(direct.write(1, ones, 0, DirectWriter.ALIGNMENT)).isFalse(); // offset
            assertThat(direct.write(0, ones, 0, DirectWriter.ALIGNMENT - 1)).isFalse(); // length
            assertThat(direct.write(0, ByteBuffer.wrap(ones))).isFalse(); // heap buffer where a direct one is needed
        }
        assertThat(Files.readAllBytes(to)).containsOnly(0);
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, value);
        return bytes;
    }
}
