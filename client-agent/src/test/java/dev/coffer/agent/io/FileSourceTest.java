package dev.coffer.agent.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class FileSourceTest {

    private static final int CHUNK = 64 * 1024;
    private static final int SIZE = 64 * CHUNK + 10_000;

    @TempDir
    Path dir;

    /** Data in chunk 3, across the 9/10 boundary, and in the short last chunk 64. */
    private static SparseImage image() {
        return SparseImage.ofSize(SIZE).data(3 * CHUNK + 100, 50).data(10 * CHUNK - 2, 4).data(64 * CHUNK + 5000, 100);
    }

    private record Extent(long offset, long length) {
        long end() {
            return offset + length;
        }
    }

    private static List<Extent> extents(FileSource source) throws IOException {
        List<Extent> extents = new ArrayList<>();
        source.forEachDataExtent((offset, length) -> extents.add(new Extent(offset, length)));
        return extents;
    }

    @Test
    void shouldFindTheDataExtentsAroundTheWrites() throws Exception {
        try (FileSource source = FileSource.open(image().writeTo(dir.resolve("disk.img")))) {
            assertThat(source.size()).isEqualTo(SIZE);
            assertThat(source.isBlockDevice()).isFalse();
            List<Extent> extents = extents(source);
            assertThat(extents).hasSize(3);
            // block granular: each extent covers its write and stays inside that write's chunks
            assertThat(extents.get(0).offset()).isBetween(3L * CHUNK, 3L * CHUNK + 100);
            assertThat(extents.get(0).end()).isBetween(3L * CHUNK + 150, 4L * CHUNK);
            assertThat(extents.get(1).offset()).isBetween(9L * CHUNK, 10L * CHUNK - 2);
            assertThat(extents.get(1).end()).isBetween(10L * CHUNK + 2, 11L * CHUNK);
            assertThat(extents.get(2).offset()).isBetween(64L * CHUNK, 64L * CHUNK + 5000);
            assertThat(extents.get(2).end()).isBetween(64L * CHUNK + 5100, (long) SIZE);
        }
    }

    @Test
    void shouldReportHoleChunksWithoutReadingThem() throws Exception {
        try (FileSource source = FileSource.open(image().writeTo(dir.resolve("disk.img")))) {
            ChunkMap map = source.chunkMap(CHUNK);
            assertThat(map.chunkCount()).isEqualTo(65);
            List<Long> withData = new ArrayList<>();
            for (long i = 0; i < map.chunkCount(); i++) {
                if (!map.isHole(i)) {
                    withData.add(i);
                }
            }
            assertThat(withData).containsExactly(3L, 9L, 10L, 64L);
            assertThat(source.chunkReads()).isZero();
        }
    }

    @Test
    void shouldReadEveryChunkExactly() throws Exception {
        SparseImage image = image();
        try (FileSource source = FileSource.open(image.writeTo(dir.resolve("disk.img")))) {
            byte[] buf = new byte[CHUNK];
            for (int i = 0; i < 65; i++) {
                int length = source.readChunk(i, CHUNK, buf);
                assertThat(length).isEqualTo(i < 64 ? CHUNK : 10_000);
                assertThat(Arrays.copyOf(buf, length))
                        .isEqualTo(Arrays.copyOfRange(image.bytes(), i * CHUNK, i * CHUNK + length));
            }
            assertThat(source.chunkReads()).isEqualTo(65);
        }
    }

    @Test
    void shouldWalkAHugeSparseFileInAFewSeeksNotOnePerChunk() throws Exception {
        Path file = dir.resolve("huge.img");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(1L << 30); // 16,384 chunks
            for (long chunk : new long[] {5, 9000, 16383}) {
                raf.seek(chunk * CHUNK + 1000);
                raf.write(new byte[] {1, 2, 3});
            }
        }
        try (FileSource source = FileSource.open(file)) {
            ChunkMap map = source.chunkMap(CHUNK);
            long holes = 0;
            for (long i = 0; i < map.chunkCount(); i++) {
                holes += map.isHole(i) ? 1 : 0;
            }
            assertThat(holes).isEqualTo(16_384 - 3);
            assertThat(source.seekCalls()).isLessThanOrEqualTo(2 * 3 + 2);
            assertThat(source.chunkReads()).isZero();
        }
    }

    @Test
    void shouldJumpToTheNextChunkWithData() throws Exception {
        try (FileSource source = FileSource.open(image().writeTo(dir.resolve("disk.img")))) {
            ChunkMap map = source.chunkMap(CHUNK);
            assertThat(map.nextDataChunk(0)).isEqualTo(3);
            assertThat(map.nextDataChunk(3)).isEqualTo(3);
            assertThat(map.nextDataChunk(4)).isEqualTo(9);
            assertThat(map.nextDataChunk(10)).isEqualTo(10);
            assertThat(map.nextDataChunk(11)).isEqualTo(64);
            assertThat(map.nextDataChunk(65)).isEqualTo(65);
        }
        Path tailHole = SparseImage.ofSize(SIZE).data(0, 10).writeTo(dir.resolve("head.img"));
        try (FileSource source = FileSource.open(tailHole)) {
            assertThat(source.chunkMap(CHUNK).nextDataChunk(1)).isEqualTo(65);
        }
    }

    @Test
    void shouldAnswerAnEarlierChunkAfterALaterOne() throws Exception {
        try (FileSource source = FileSource.open(image().writeTo(dir.resolve("disk.img")))) {
            ChunkMap map = source.chunkMap(CHUNK);
            assertThat(map.isHole(64)).isFalse();
            assertThat(map.isHole(3)).isFalse();
            assertThat(map.isHole(2)).isTrue();
            assertThat(map.isHole(63)).isTrue();
        }
    }

    @Test
    void shouldTellWhetherARangeIsHole() throws Exception {
        try (FileSource source = FileSource.open(image().writeTo(dir.resolve("disk.img")))) {
            assertThat(source.isHole(0, 3L * CHUNK)).isTrue();
            assertThat(source.isHole(0, 3L * CHUNK + 101)).isFalse();
            assertThat(source.isHole(4L * CHUNK, 5L * CHUNK)).isTrue();
            assertThat(source.isHole(SIZE, 0)).isTrue();
            assertThatThrownBy(() -> source.isHole(SIZE - 10, 11)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void shouldSeeAFileWithoutHolesAsOneExtent() throws Exception {
        Path file = dir.resolve("full.img");
        byte[] data = new byte[3 * CHUNK + 17];
        Arrays.fill(data, (byte) 9);
        Files.write(file, data);
        try (FileSource source = FileSource.open(file)) {
            assertThat(extents(source)).containsExactly(new Extent(0, data.length));
            ChunkMap map = source.chunkMap(CHUNK);
            for (long i = 0; i < map.chunkCount(); i++) {
                assertThat(map.isHole(i)).isFalse();
            }
        }
    }

    @Test
    void shouldOpenAnEmptyFileAsNoChunks() throws Exception {
        Path file = Files.createFile(dir.resolve("empty.img"));
        try (FileSource source = FileSource.open(file)) {
            assertThat(source.size()).isZero();
            assertThat(extents(source)).isEmpty();
            assertThat(source.chunkMap(CHUNK).chunkCount()).isZero();
        }
    }

    @Test
    void shouldFailWithPathAndOffsetWhenTheFileShrank() throws Exception {
        Path file = image().writeTo(dir.resolve("disk.img"));
        try (FileSource source = FileSource.open(file)) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(64L * CHUNK + 4000);
            }
            assertThatThrownBy(() -> source.readChunk(64, CHUNK, new byte[CHUNK]))
                    .isInstanceOf(EOFException.class)
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("offset " + (64L * CHUNK + 4000))
                    .hasMessageContaining("chunk 64");
        }
    }

    @Test
    void shouldRefuseABufferShorterThanTheChunk() throws Exception {
        try (FileSource source = FileSource.open(image().writeTo(dir.resolve("disk.img")))) {
            assertThatThrownBy(() -> source.readChunk(0, CHUNK, new byte[CHUNK - 1]))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> source.readChunk(65, CHUNK, new byte[CHUNK]))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void shouldRefuseADirectory() {
        assertThatThrownBy(() -> FileSource.open(dir))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("a directory");
    }

    @Test
    void shouldRefuseAMissingFile() {
        assertThatThrownBy(() -> FileSource.open(dir.resolve("missing.img")))
                .isInstanceOf(java.nio.file.NoSuchFileException.class);
    }
}
