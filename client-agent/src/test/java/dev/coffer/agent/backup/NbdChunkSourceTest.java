package dev.coffer.agent.backup;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static dev.coffer.agent.nbd.NbdServerProcess.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.agent.nbd.NbdServerProcess;
import dev.coffer.agent.nbd.NbdUri;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NbdChunkSource} against qemu-nbd exporting a qcow2 with a persistent dirty bitmap
 * (read-only, {@code -B b1}), and against nbdkit's eval plugin for an export that reports a HOLE
 * without ZERO. The disk spans several status windows at 1 MiB chunks, and its size is not a
 * multiple of the chunk size.
 */
final class NbdChunkSourceTest {

    private static final int MIB = 1 << 20;
    private static final int KIB = 1 << 10;
    private static final long DISK = 201L * MIB + 512 * KIB;
    private static final int CS = MIB;
    /** Chunks holding data (before or after the bitmap was added). */
    private static final Set<Long> DATA = Set.of(0L, 1L, 5L, 70L, 130L, 150L, 201L);
    /** Chunks written after the bitmap was added. */
    private static final Set<Long> DIRTY = Set.of(1L, 5L, 130L, 201L);

    @TempDir
    static Path dir;

    private static NbdServerProcess qemu;
    private static NbdServerProcess plain;
    private static NbdServerProcess eval;
    private static NbdUri bitmapUri;
    private static NbdUri plainUri;
    private static NbdUri evalUri;
    private static Path raw;

    @BeforeAll
    static void start() throws Exception {
        Path disk = dir.resolve("disk.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), Long.toString(DISK));
        run("qemu-io", "-f", "qcow2",
                "-c", "write -P 0x11 0 1M",
                "-c", "write -P 0x22 " + (MIB + 4 * KIB) + " 4k",
                "-c", "write -z 2M 1M",
                "-c", "write -P 0x33 70M 64k",
                "-c", "write -P 0x77 150M 1M",
                disk.toString());
        run("qemu-img", "bitmap", "--add", disk.toString(), "b1");
        run("qemu-io", "-f", "qcow2",
                "-c", "write -P 0x44 " + (MIB + 512 * KIB) + " 64k",
                "-c", "write -P 0x55 5M 4k",
                "-c", "write -P 0x66 130M 64k",
                "-c", "write -P 0x88 " + (DISK - 4 * KIB) + " 4k",
                disk.toString());
        raw = dir.resolve("disk.raw");
        run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", disk.toString(), raw.toString());

        Path s1 = dir.resolve("bitmap.sock");
        qemu = NbdServerProcess.onSocket(dir, "qemu-nbd-b1", s1, cmd("qemu-nbd", "--socket=" + s1, "--export-name=vda",
                "--format=qcow2", "--read-only", "--persistent", "--shared=4", "--bitmap=b1", disk.toString()));
        bitmapUri = NbdUri.parse("nbd+unix:///vda?socket=" + s1);
        Path s2 = dir.resolve("plain.sock");
        plain = NbdServerProcess.onSocket(dir, "qemu-nbd-plain", s2, cmd("qemu-nbd", "--socket=" + s2, "--export-name=vda",
                "--format=raw", "--read-only", "--persistent", "--shared=4", raw.toString()));
        plainUri = NbdUri.parse("nbd+unix:///vda?socket=" + s2);

        // 4 chunks of 64 KiB: data, HOLE only, HOLE|ZERO, ZERO; every byte reads 0xab
        Path s3 = dir.resolve("eval.sock");
        eval = NbdServerProcess.onSocket(dir, "nbdkit-eval", s3, cmd("nbdkit", "-f", "-U", s3.toString(), "eval",
                "get_size=echo 262144",
                "pread=head -c $3 /dev/zero | tr '\\000' '\\253'",
                "can_extents=exit 0",
                "extents=echo 0 65536 ''; echo 65536 65536 hole; echo 131072 65536 hole,zero; echo 196608 65536 zero"));
        evalUri = NbdUri.parse("nbd+unix:///?socket=" + s3);
    }

    @AfterAll
    static void stop() throws Exception {
        for (NbdServerProcess p : new NbdServerProcess[] {qemu, plain, eval}) {
            if (p != null) {
                p.close();
            }
        }
    }

    @Test
    void shouldCallOnlyWhollyZeroFlaggedChunksZero() throws Exception {
        try (NbdChunkSource src = NbdChunkSource.open(bitmapUri, "b1", CS)) {
            assertThat(src.size()).isEqualTo(DISK);
            Set<Long> nonZero = new TreeSet<>();
            for (long i = 0; i < 202; i++) {
                if (!src.isZeroChunk(i)) {
                    nonZero.add(i);
                }
            }
            // chunk 2 was written with write -z: a zero cluster, flagged ZERO, never read
            assertThat(nonZero).containsExactlyInAnyOrderElementsOf(DATA);
        }
    }

    @Test
    void shouldReadAHoleThatIsNotFlaggedZero() throws Exception {
        try (NbdChunkSource src = NbdChunkSource.open(evalUri, null, 64 * KIB)) {
            assertThat(src.isZeroChunk(0)).isFalse();
            assertThat(src.isZeroChunk(1)).as("HOLE alone: contents unknown, must be read").isFalse();
            assertThat(src.isZeroChunk(2)).isTrue();
            assertThat(src.isZeroChunk(3)).isTrue();
            byte[] buf = new byte[64 * KIB];
            assertThat(src.readChunk(1, buf)).isEqualTo(64 * KIB);
            byte[] expected = new byte[64 * KIB];
            Arrays.fill(expected, (byte) 0xab);
            assertThat(buf).isEqualTo(expected);
            assertThat(src.hasDirtyBitmap()).isFalse();
            assertThat(src.isClean(0)).isFalse();
        }
    }

    @Test
    void shouldTellCleanFromDirtyChunksFromTheBitmapInAnyOrder() throws Exception {
        try (NbdChunkSource src = NbdChunkSource.open(bitmapUri, "b1", CS)) {
            assertThat(src.hasDirtyBitmap()).isTrue();
            Set<Long> dirty = new TreeSet<>();
            for (long i = 0; i < 202; i++) {
                if (!src.isClean(i)) {
                    dirty.add(i);
                }
            }
            assertThat(dirty).containsExactlyInAnyOrderElementsOf(DIRTY);
            // backwards and jumping between windows, as the sample does
            for (long i = 201; i >= 0; i -= 7) {
                assertThat(src.isClean(i)).as("chunk %d", i).isEqualTo(!DIRTY.contains(i));
                assertThat(src.isZeroChunk(i)).as("chunk %d", i).isEqualTo(!DATA.contains(i));
            }
        }
    }

    @Test
    void shouldNeverCallAChunkCleanWithoutABitmap() throws Exception {
        try (NbdChunkSource src = NbdChunkSource.open(bitmapUri, null, CS)) {
            assertThat(src.hasDirtyBitmap()).isFalse();
            for (long i = 0; i < 202; i++) {
                assertThat(src.isClean(i)).isFalse();
            }
        }
    }

    @Test
    void shouldReadChunksAsTheImageHoldsThemIncludingAShortLastOne() throws Exception {
        for (int cs : new int[] {MIB, 4 * MIB, 64 * KIB}) {
            try (NbdChunkSource src = NbdChunkSource.open(bitmapUri, "b1", cs);
                    RandomAccessFile f = new RandomAccessFile(raw.toFile(), "r")) {
                long chunks = (DISK + cs - 1) / cs;
                byte[] buf = new byte[cs];
                byte[] want = new byte[cs];
                List<Long> read = new ArrayList<>();
                for (long i = 0; i < chunks; i++) {
                    if (src.isZeroChunk(i)) {
                        continue;
                    }
                    int n = src.readChunk(i, buf);
                    int len = (int) Math.min(cs, DISK - i * cs);
                    assertThat(n).isEqualTo(len);
                    f.seek(i * cs);
                    f.readFully(want, 0, len);
                    assertThat(Arrays.equals(buf, 0, len, want, 0, len)).as("chunk %d at chunk size %d", i, cs).isTrue();
                    read.add(i);
                }
                assertThat(read).isNotEmpty().contains(chunks - 1);
            }
        }
    }

    @Test
    void shouldReadARawExportTheSame() throws Exception {
        try (NbdChunkSource a = NbdChunkSource.open(plainUri, null, CS); NbdChunkSource b = NbdChunkSource.open(bitmapUri, null, CS)) {
            byte[] x = new byte[CS];
            byte[] y = new byte[CS];
            for (long i : DATA) {
                a.readChunk(i, x);
                b.readChunk(i, y);
                assertThat(x).as("chunk %d", i).isEqualTo(y);
            }
        }
    }

    @Test
    void shouldSayWhenTheExportLacksTheBitmap() {
        assertThatThrownBy(() -> NbdChunkSource.open(plainUri, "b1", CS))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("does not offer the dirty bitmap 'b1'")
                .hasMessageContaining("qemu-nbd -B b1");
    }
}
