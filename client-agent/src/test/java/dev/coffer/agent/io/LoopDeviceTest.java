package dev.coffer.agent.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coffer.chunker.ErrnoException;
import dev.coffer.chunker.LinuxIo;
import dev.coffer.chunker.NativeFile;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Block devices for real: an 8 MiB loop device over a sparse file. Needs root (CI runs as root on
 * Debian 12, so there it always runs); a non-root developer run reports it as skipped, with the reason.
 * If losetup is missing or fails as root, the test fails rather than skips.
 */
final class LoopDeviceTest {

    private static final int CHUNK = 64 * 1024;
    private static final int MIB = 1 << 20;
    private static final long DEVICE_SIZE = 8L * MIB;

    @TempDir
    Path dir;

    private Path backing;
    private Path device;

    @BeforeEach
    void attach() throws Exception {
        assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "loop devices need root; CI runs as root");
        backing = dir.resolve("backing.img");
        try (RandomAccessFile raf = new RandomAccessFile(backing.toFile(), "rw")) {
            raf.setLength(DEVICE_SIZE);
            raf.seek(CHUNK);
            raf.write("before".getBytes(StandardCharsets.US_ASCII));
            raf.seek(6L * MIB);
            raf.write("beyond the disk".getBytes(StandardCharsets.US_ASCII));
        }
        device = Path.of(losetup("-f", "--show", backing.toString()).strip());
    }

    @AfterEach
    void detach() throws Exception {
        if (device != null) {
            losetup("-d", device.toString());
        }
    }

    @Test
    void shouldReadABlockDeviceAsOneDataExtent() throws Exception {
        try (FileSource source = FileSource.open(device)) {
            assertThat(source.isBlockDevice()).isTrue();
            assertThat(source.size()).isEqualTo(DEVICE_SIZE);
            long[] extents = new long[3];
            source.forEachDataExtent((offset, length) -> {
                extents[0]++;
                extents[1] = offset;
                extents[2] = length;
            });
            assertThat(extents).containsExactly(1, 0, DEVICE_SIZE); // the backing file's holes are not visible
            ChunkMap map = source.chunkMap(CHUNK);
            assertThat(map.isHole(0)).isFalse();
            assertThat(map.isHole(map.chunkCount() - 1)).isFalse();
            assertThat(source.seekCalls()).isZero();
            byte[] buf = new byte[CHUNK];
            assertThat(source.readChunk(1, CHUNK, buf)).isEqualTo(CHUNK);
            assertThat(new String(buf, 0, 6, StandardCharsets.US_ASCII)).isEqualTo("before");
        }
    }

    @Test
    void shouldRefuseADeviceSmallerThanTheDisk() {
        assertThatThrownBy(() -> FileTarget.open(device, 2 * DEVICE_SIZE, true))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(device.toString())
                .hasMessageContaining("holds " + DEVICE_SIZE + " bytes")
                .hasMessageContaining("needs " + 2 * DEVICE_SIZE + " bytes");
    }

    @Test
    void shouldWriteRealZerosAndLeaveTheRestOfTheDeviceAlone() throws Exception {
        byte[] ones = new byte[3 * MIB];
        Arrays.fill(ones, (byte) 1);
        try (FileTarget target = FileTarget.open(device, 4L * MIB, false)) {
            assertThat(target.isBlockDevice()).isTrue();
            target.write(0, ones, 0, ones.length);
            assertThat(target.readsZeroes(0, CHUNK)).isFalse();
            target.writeZeroes(CHUNK, 2L * MIB + 5); // more than one 1 MiB zero block, not a multiple of it
            assertThat(target.holesPunched()).isZero();
            target.flush();
        }
        try (FileSource source = FileSource.open(device)) {
            byte[] chunk = new byte[CHUNK];
            byte[] image = new byte[4 * MIB];
            for (int i = 0; i < 4 * MIB / CHUNK; i++) {
                source.readChunk(i, CHUNK, chunk);
                System.arraycopy(chunk, 0, image, i * CHUNK, CHUNK);
            }
            assertThat(Arrays.copyOfRange(image, 0, CHUNK)).containsOnly(1);
            assertThat(Arrays.copyOfRange(image, CHUNK, CHUNK + 2 * MIB + 5)).containsOnly(0);
            assertThat(Arrays.copyOfRange(image, CHUNK + 2 * MIB + 5, 3 * MIB)).containsOnly(1);
            assertThat(Arrays.copyOfRange(image, 3 * MIB, 4 * MIB)).containsOnly(0);
            source.readChunk(6L * MIB / CHUNK, CHUNK, chunk);
            assertThat(new String(chunk, 0, 15, StandardCharsets.US_ASCII)).isEqualTo("beyond the disk");
        }
        // zeros were written, not discarded: a discard on a loop device would punch the backing file
        try (NativeFile file = NativeFile.openReadOnly(backing)) {
            assertThat(file.seekHole(0)).isGreaterThanOrEqualTo(3L * MIB);
        }
    }

    @Test
    void shouldClaimTheDeviceExclusively() throws Exception {
        try (FileTarget first = FileTarget.open(device, DEVICE_SIZE, false)) {
            assertThatThrownBy(() -> FileTarget.open(device, DEVICE_SIZE, false))
                    .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(LinuxIo.EBUSY))
                    .hasMessageContaining(device.toString());
        }
    }

    private static String losetup(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = "losetup";
        System.arraycopy(args, 0, command, 1, args.length);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = process.waitFor();
        if (exit != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + exit + ": " + output);
        }
        return output;
    }
}
