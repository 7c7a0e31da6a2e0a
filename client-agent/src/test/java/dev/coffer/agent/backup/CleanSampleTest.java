package dev.coffer.agent.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FixedIndexWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample of "clean" chunks that must hash to the base's digests before a bitmap is trusted. */
final class CleanSampleTest {

    private static final int CS = 64 * 1024;
    private static final int CHUNKS = 100;

    @TempDir
    Path dir;

    /** An in-memory disk: chunk i filled with byte i, zero where {@code zero}, dirty where {@code dirty}. */
    static final class Mem implements ChunkSource {
        final byte[][] data = new byte[CHUNKS][CS];
        final Set<Long> zero = new TreeSet<>();
        final Set<Long> dirty = new TreeSet<>();
        final Set<Long> read = new TreeSet<>();

        Mem() {
            for (int i = 0; i < CHUNKS; i++) {
                Arrays.fill(data[i], (byte) (i + 1));
            }
        }

        @Override
        public long size() {
            return (long) CHUNKS * CS;
        }

        @Override
        public boolean isZeroChunk(long index) {
            return zero.contains(index);
        }

        @Override
        public boolean hasDirtyBitmap() {
            return true;
        }

        @Override
        public boolean isClean(long index) {
            return !dirty.contains(index);
        }

        @Override
        public int readChunk(long index, byte[] buf) {
            read.add(index);
            System.arraycopy(data[(int) index], 0, buf, 0, CS);
            return CS;
        }

        @Override
        public void close() {}
    }

    private FixedIndexReader baseOf(Mem m) throws IOException {
        Path p = dir.resolve("base.fidx");
        try (FixedIndexWriter w = FixedIndexWriter.create(p, UUID.randomUUID(), Instant.now(), m.size(), CS);
                ChunkCodec c = ChunkCodec.create(null)) {
            for (int i = 0; i < CHUNKS; i++) {
                w.append(m.zero.contains((long) i) ? dev.coffer.chunker.Digest.ZERO : c.digest(m.data[i], 0, CS));
            }
            w.finish();
        }
        return FixedIndexReader.open(p);
    }

    @Test
    void shouldReadEightCleanNonZeroChunksAndFindThemEqual() throws Exception {
        Mem m = new Mem();
        for (long i = 0; i < 50; i++) {
            m.zero.add(i);
        }
        m.dirty.addAll(Set.of(60L, 61L, 62L));
        try (FixedIndexReader base = baseOf(m)) {
            DiskStats stats = new DiskStats();
            CleanSample.Outcome o = CleanSample.run(m, base, null, CS, 42, stats);
            assertThat(o.matches()).isTrue();
            assertThat(o.sampled()).isEqualTo(8);
            assertThat(m.read).hasSize(8).allMatch(i -> i >= 50 && !m.dirty.contains(i));
            assertThat(stats.sampledBytes.sum()).isEqualTo(8L * CS);
            assertThat(stats.readBytes()).isEqualTo(8L * CS);

            Mem again = new Mem();
            again.zero.addAll(m.zero);
            again.dirty.addAll(m.dirty);
            CleanSample.run(again, base, null, CS, 42, new DiskStats());
            assertThat(again.read).as("the same seed picks the same chunks").isEqualTo(m.read);
        }
    }

    @Test
    void shouldCatchAChangeTheBitmapMissed() throws Exception {
        Mem m = new Mem();
        try (FixedIndexReader base = baseOf(m)) {
            for (int i = 0; i < CHUNKS; i++) {
                m.data[i][100] ^= 1; // every chunk changed, none marked dirty
            }
            CleanSample.Outcome o = CleanSample.run(m, base, null, CS, 7, new DiskStats());
            assertThat(o.matches()).isFalse();
            assertThat(o.mismatches()).isEqualTo(8);
        }
    }

    @Test
    void shouldSampleWhatThereIsWhenFewChunksAreClean() throws Exception {
        Mem m = new Mem();
        for (long i = 0; i < CHUNKS; i++) {
            if (i != 3 && i != 97) {
                m.dirty.add(i);
            }
        }
        try (FixedIndexReader base = baseOf(m)) {
            CleanSample.Outcome o = CleanSample.run(m, base, null, CS, 1, new DiskStats());
            assertThat(o.sampled()).isEqualTo(2);
            assertThat(m.read).containsExactly(3L, 97L);
        }
    }
}
