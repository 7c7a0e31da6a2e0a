package dev.coffer.agent.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.chunker.ChunkDigester;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FixedIndexWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --verify}: the target read back must hold exactly the index's chunks. */
final class RestoreVerifyTest {

    private static final int CS = 64 * 1024;

    @TempDir
    Path dir;

    /** A target in memory whose reads can be made to lie: the fault a verify exists to catch. */
    private static final class MemoryTarget implements RestoreTarget {
        final byte[] data;
        long corruptAt = -1;

        MemoryTarget(byte[] data) {
            this.data = data;
        }

        @Override
        public long size() {
            return data.length;
        }

        @Override
        public void write(long offset, byte[] buf, int off, int len) {
            System.arraycopy(buf, off, data, (int) offset, len);
        }

        @Override
        public void writeZeroes(long offset, long len) {
            java.util.Arrays.fill(data, (int) offset, (int) (offset + len), (byte) 0);
        }

        @Override
        public void flush() {}

        @Override
        public void read(long offset, byte[] buf, int len) {
            System.arraycopy(data, (int) offset, buf, 0, len);
            if (corruptAt >= offset && corruptAt < offset + len) {
                buf[(int) (corruptAt - offset)] ^= 1;
            }
        }

        @Override
        public String describe() {
            return "memory";
        }

        @Override
        public void close() {}
    }

    private FixedIndexReader index(byte[] image) throws IOException {
        Path p = dir.resolve("i.fidx");
        ChunkDigester digester = ChunkDigester.plain();
        try (FixedIndexWriter w = FixedIndexWriter.create(p, UUID.randomUUID(), Instant.now(), image.length, CS)) {
            for (int off = 0; off < image.length; off += CS) {
                w.append(digester.digest(image, off, Math.min(CS, image.length - off)));
            }
            w.finish();
        }
        return FixedIndexReader.open(p);
    }

    @Test
    void shouldPassAnIdenticalTargetAndNameTheOffsetOfADifference() throws Exception {
        byte[] image = new byte[5 * CS - 123];
        new SplittableRandom(1).nextBytes(image);
        java.util.Arrays.fill(image, CS, 2 * CS, (byte) 0);
        MemoryTarget target = new MemoryTarget(image.clone());
        try (FixedIndexReader idx = index(image)) {
            RestoreRun.verify(idx, target, null, "drive0");
            target.corruptAt = 3L * CS + 17;
            assertThatThrownBy(() -> RestoreRun.verify(idx, target, null, "drive0")).isInstanceOf(IOException.class)
                    .hasMessageContaining("verify failed: disk drive0 on memory at offset " + 3L * CS);
            target.corruptAt = CS + 5; // inside the zero chunk
            assertThatThrownBy(() -> RestoreRun.verify(idx, target, null, "drive0"))
                    .hasMessageContaining("at offset " + CS);
        }
        assertThat(target.data).isEqualTo(image);
    }

    @Test
    void shouldCopyARepeatedChunkOnlyWhenItsFirstPlaceHoldsIt() throws Exception {
        byte[] image = new byte[4 * CS];
        new SplittableRandom(2).nextBytes(image);
        MemoryTarget target = new MemoryTarget(image.clone());
        byte[] into = new byte[CS];
        try (FixedIndexReader idx = index(image); dev.coffer.chunker.ChunkCodec codec = dev.coffer.chunker.ChunkCodec.create(null)) {
            assertThat(RestoreRun.copied(target, codec, 2L * CS, idx.digest(2), CS, into)).isTrue();
            assertThat(into).isEqualTo(java.util.Arrays.copyOfRange(image, 2 * CS, 3 * CS));
            assertThat(RestoreRun.copied(target, codec, CS, idx.digest(2), CS, into)).as("another chunk there").isFalse();
            target.corruptAt = 2L * CS + 9; // the first copy is not (yet) what it should be: fetch instead
            assertThat(RestoreRun.copied(target, codec, 2L * CS, idx.digest(2), CS, into)).isFalse();
        }
    }
}
