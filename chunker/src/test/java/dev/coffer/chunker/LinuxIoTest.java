package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class LinuxIoTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    /** 8 MiB, all hole except 4 KiB of ones at 1 MiB and at 5 MiB. */
    private Path sparseFile() throws Exception {
        Path file = dir.resolve("sparse.img");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(8L * MIB);
            byte[] ones = new byte[4096];
            Arrays.fill(ones, (byte) 1);
            raf.seek(MIB);
            raf.write(ones);
            raf.seek(5L * MIB);
            raf.write(ones);
        }
        return file;
    }

    @Test
    void shouldFindDataAndHolesInASparseFile() throws Exception {
        try (NativeFile f = NativeFile.openReadOnly(sparseFile())) {
            assertThat(f.seekData(0)).isEqualTo(MIB);
            assertThat(f.seekHole(MIB)).isEqualTo(MIB + 4096);
            assertThat(f.seekData(MIB + 4096)).isEqualTo(5L * MIB);
            assertThat(f.seekHole(5L * MIB)).isEqualTo(5L * MIB + 4096);
            assertThat(f.seekHole(0)).isZero();
        }
    }

    @Test
    void shouldReportNoMoreDataAsMinusOne() throws Exception {
        try (NativeFile f = NativeFile.openReadOnly(sparseFile())) {
            assertThat(f.seekData(5L * MIB + 4096)).isEqualTo(-1); // ENXIO: only a hole follows
            assertThat(f.seekData(8L * MIB)).isEqualTo(-1);
            assertThat(f.seekHole(8L * MIB)).isEqualTo(-1);
        }
    }

    @Test
    void shouldPunchAHoleThatReadsBackAsZeros() throws Exception {
        Path file = sparseFile();
        try (NativeFile f = NativeFile.openReadWrite(file)) {
            f.punchHole(MIB, 4096);
            assertThat(f.seekData(0)).isEqualTo(5L * MIB);
        }
        assertThat(Files.size(file)).isEqualTo(8L * MIB); // KEEP_SIZE
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            byte[] back = new byte[4096];
            raf.seek(MIB);
            raf.readFully(back);
            assertThat(back).containsOnly(0);
        }
    }

    @Test
    void shouldCarryErrnoAndPathWhenOpenFails() {
        Path missing = dir.resolve("missing.img");
        assertThatThrownBy(() -> NativeFile.openReadOnly(missing))
                .isInstanceOfSatisfying(ErrnoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(LinuxIo.ENOENT);
                    assertThat(e.path()).isEqualTo(missing);
                })
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("No such file or directory (errno 2)");
    }

    @Test
    void shouldRefuseTheBlockDeviceSizeOfARegularFile() throws Exception {
        Path file = sparseFile();
        try (NativeFile f = NativeFile.openReadOnly(file)) {
            assertThatThrownBy(f::blockDeviceSize)
                    .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(LinuxIo.ENOTTY))
                    .hasMessageContaining(file.toString());
        }
    }

    @Test
    void shouldCarryErrnoWhenPunchingAReadOnlyDescriptor() throws Exception {
        Path file = sparseFile();
        try (NativeFile f = NativeFile.openReadOnly(file)) {
            assertThatThrownBy(() -> f.punchHole(0, 4096))
                    .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(LinuxIo.EBADF))
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("[0, 4096)");
        }
    }

    @Test
    void shouldReportSyncfsErrorsWithThePath() {
        Path missing = dir.resolve("gone");
        assertThatThrownBy(() -> LinuxIo.syncfs(missing))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(LinuxIo.ENOENT))
                .hasMessageContaining(missing.toString());
    }

    @Test
    void shouldSyncAnExistingFilesystem() throws Exception {
        LinuxIo.syncfs(dir);
    }

    @Test
    void shouldRefuseCallsAfterClose() throws Exception {
        NativeFile f = NativeFile.openReadOnly(sparseFile());
        f.close();
        f.close();
        assertThatThrownBy(() -> f.seekData(0)).isInstanceOf(ClosedChannelException.class);
    }
}
