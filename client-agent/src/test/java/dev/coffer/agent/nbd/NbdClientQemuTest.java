package dev.coffer.agent.nbd;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static dev.coffer.agent.nbd.NbdServerProcess.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against qemu-nbd (QEMU 7.2 on Debian 12) exporting a 3 GiB qcow2 with a persistent
 * dirty bitmap, as the backup will meet it: data written with qemu-io before and after the bitmap
 * was added, plus random data written through the client's own WRITE. Everything below 44 MiB is
 * mirrored in {@link #expected}; tests that change the disk work above 64 MiB.
 */
final class NbdClientQemuTest {

    private static final int MIB = 1 << 20;
    private static final long DISK = 3L << 30;
    private static final int MODEL = 44 * MIB;
    private static final long RANDOM_AT = 32L * MIB;
    private static final int RANDOM_LEN = 8 * MIB;

    @TempDir
    static Path dir;

    private static NbdServerProcess server;
    private static NbdUri uri;
    private static byte[] expected;

    @BeforeAll
    static void startQemuNbd() throws Exception {
        Path disk = dir.resolve("disk.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), Long.toString(DISK));
        run("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 8M 64k", disk.toString());
        run("qemu-img", "bitmap", "--add", disk.toString(), "b1");
        run("qemu-io", "-f", "qcow2", "-c", "write -P 0x33 16M 128k", "-c", "write -P 0x44 " + (24 * MIB + 4096) + " 4k",
                disk.toString());
        Path socket = dir.resolve("nbd.sock");
        server = NbdServerProcess.onSocket(dir, "qemu-nbd", socket, cmd("qemu-nbd", "--socket=" + socket,
                "--export-name=disk", "--format=qcow2", "--persistent", "--shared=8", "--bitmap=b1",
                "--discard=unmap", "--cache=writeback", disk.toString()));
        uri = NbdUri.parse("nbd+unix:///disk?socket=" + socket);

        expected = new byte[MODEL];
        Arrays.fill(expected, 0, MIB, (byte) 0x11);
        Arrays.fill(expected, 8 * MIB, 8 * MIB + 65536, (byte) 0x22);
        Arrays.fill(expected, 16 * MIB, 16 * MIB + 131072, (byte) 0x33);
        Arrays.fill(expected, 24 * MIB + 4096, 24 * MIB + 8192, (byte) 0x44);
        byte[] random = new byte[RANDOM_LEN];
        new Random(42).nextBytes(random);
        System.arraycopy(random, 0, expected, (int) RANDOM_AT, RANDOM_LEN);
        try (NbdClient client = NbdClient.connect(uri)) {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int off = 0; off < RANDOM_LEN; off += 512 * 1024) {
                writes.add(client.writeAsync(RANDOM_AT + off, random, off, 512 * 1024));
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            client.flush();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static NbdClient connectWithBitmap() throws NbdException {
        return NbdClient.connect(uri, NbdClientOptions.defaults().withDirtyBitmap("b1"));
    }

    @Test
    void shouldNegotiateExportInfoAndContexts() throws Exception {
        try (NbdClient client = connectWithBitmap()) {
            ExportInfo info = client.info();
            assertThat(info.name()).isEqualTo("disk");
            assertThat(info.size()).isEqualTo(DISK);
            assertThat(info.readOnly()).isFalse();
            assertThat(info.canFlush()).isTrue();
            assertThat(info.canTrim()).isTrue();
            assertThat(info.canWriteZeroes()).isTrue();
            assertThat(info.canMultiConn()).isTrue();
            assertThat(info.minimumBlock()).isEqualTo(1);
            assertThat(info.preferredBlock()).isEqualTo(4096);
            assertThat(info.maximumPayload()).isEqualTo(32 * MIB);
            assertThat(client.metaContexts()).containsExactly("base:allocation", "qemu:dirty-bitmap:b1");
        }
    }

    @Test
    void shouldReadBackWhatWasWritten() throws Exception {
        try (NbdClient client = NbdClient.connect(uri)) {
            byte[] buf = new byte[2 * MIB];
            client.read(0, buf, 0, 2 * MIB); // 1 MiB of data, then a hole
            assertThat(Arrays.equals(buf, 0, 2 * MIB, expected, 0, 2 * MIB)).isTrue();
            byte[] random = new byte[RANDOM_LEN];
            client.read(RANDOM_AT, random, 0, RANDOM_LEN);
            assertThat(Arrays.equals(random, 0, RANDOM_LEN, expected, (int) RANDOM_AT, (int) RANDOM_AT + RANDOM_LEN)).isTrue();
            byte[] odd = new byte[1100];
            Arrays.fill(odd, (byte) 0x7f); // the hole part must be overwritten with zeros, not left alone
            client.read(RANDOM_AT - 37, odd, 50, 1000); // unaligned, straddling hole and data, into the middle
            assertThat(Arrays.equals(odd, 50, 1050, expected, (int) RANDOM_AT - 37, (int) RANDOM_AT + 963)).isTrue();
            assertThat(odd[49]).isEqualTo((byte) 0x7f);
            assertThat(odd[1050]).isEqualTo((byte) 0x7f);
        }
    }

    @Test
    void shouldReportDataAndHolesInBaseAllocation() throws Exception {
        try (NbdClient client = NbdClient.connect(uri)) {
            BlockStatus status = client.blockStatus(0, DISK);
            List<Extent> extents = status.of(BlockStatus.BASE_ALLOCATION);
            assertCovers(extents, 0, DISK);
            assertThat(extents.getFirst()).isEqualTo(new Extent(0, MIB, 0));
            assertThat(extents.get(1)).isEqualTo(new Extent(MIB, 7 * MIB, BlockStatus.HOLE | BlockStatus.ZERO));
            assertThat(extents.get(2)).isEqualTo(new Extent(8 * MIB, 65536, 0));
            // never written: one hole reaching the end, merged across the 1 GiB request windows
            assertThat(extents.getLast().offset()).isLessThanOrEqualTo(64L * MIB + 64 * MIB);
            assertThat(extents.getLast().end()).isEqualTo(DISK);
            assertThat(extents.getLast().flags()).isEqualTo(BlockStatus.HOLE | BlockStatus.ZERO);
            assertThat(flagsAt(extents, 2L << 30)).isEqualTo(BlockStatus.HOLE | BlockStatus.ZERO);
            assertThat(flagsAt(extents, RANDOM_AT + 4096)).isZero();
        }
    }

    @Test
    void shouldReportTheBitmapsDirtyExtents() throws Exception {
        try (NbdClient client = connectWithBitmap()) {
            BlockStatus status = client.blockStatus(0, MODEL);
            List<Extent> dirty = status.of("qemu:dirty-bitmap:b1").stream().filter(e -> e.has(BlockStatus.DIRTY)).toList();
            assertThat(dirty).containsExactly(
                    new Extent(16L * MIB, 131072, BlockStatus.DIRTY),
                    new Extent(24L * MIB, 65536, BlockStatus.DIRTY), // a 4 KiB write dirties its 64 KiB cluster
                    new Extent(RANDOM_AT, RANDOM_LEN, BlockStatus.DIRTY));
            assertCovers(status.of("qemu:dirty-bitmap:b1"), 0, MODEL);
            assertCovers(status.of(BlockStatus.BASE_ALLOCATION), 0, MODEL);
        }
    }

    @Test
    void shouldRefuseAMissingBitmapByName() {
        assertThatThrownBy(() -> NbdClient.connect(uri, NbdClientOptions.defaults().withDirtyBitmap("nosuch")))
                .isInstanceOf(NbdException.class)
                .hasMessageContaining("'disk'")
                .hasMessageContaining("qemu:dirty-bitmap:nosuch");
    }

    @Test
    void shouldWriteZeroesAndTrim() throws Exception {
        long at = 64L * MIB;
        byte[] data = new byte[2 * MIB];
        Arrays.fill(data, (byte) 0x55);
        byte[] back = new byte[2 * MIB];
        try (NbdClient client = connectWithBitmap()) {
            client.write(at, data, 0, data.length);
            client.writeZeroes(at, MIB, false);
            client.writeZeroes(at + MIB, 512 * 1024, true);
            client.read(at, back, 0, back.length);
            assertThat(Arrays.equals(back, 0, 3 * MIB / 2, new byte[3 * MIB / 2], 0, 3 * MIB / 2)).isTrue();
            assertThat(back[3 * MIB / 2]).isEqualTo((byte) 0x55);
            BlockStatus status = client.blockStatus(at, 2 * MIB);
            List<Extent> alloc = status.of(BlockStatus.BASE_ALLOCATION);
            assertThat(flagsAt(alloc, at) & BlockStatus.ZERO).isEqualTo(BlockStatus.ZERO);
            assertThat(flagsAt(alloc, at + MIB) & BlockStatus.ZERO).isEqualTo(BlockStatus.ZERO);
            assertThat(flagsAt(alloc, at + 3 * MIB / 2)).isZero();
            assertThat(status.of("qemu:dirty-bitmap:b1")).containsExactly(new Extent(at, 2 * MIB, BlockStatus.DIRTY));
            // base:allocation says HOLE|ZERO either way; the qcow2 itself shows whether NO_HOLE kept the clusters
            client.flush();
            assertThat(hostCluster(at)).as("without NO_HOLE, --discard=unmap frees the clusters").isFalse();
            assertThat(hostCluster(at + MIB)).as("NO_HOLE keeps the clusters allocated").isTrue();

            client.trim(at + 3 * MIB / 2, 512 * 1024);
            client.flush();
            client.read(at + 3 * MIB / 2, back, 0, 512 * 1024); // qcow2 without backing: trimmed clusters read zero
            assertThat(Arrays.equals(back, 0, 512 * 1024, new byte[512 * 1024], 0, 512 * 1024)).isTrue();
            assertThat(flagsAt(client.blockStatus(at + 3 * MIB / 2, 512 * 1024).of(BlockStatus.BASE_ALLOCATION),
                    at + 3 * MIB / 2) & BlockStatus.ZERO).isEqualTo(BlockStatus.ZERO);
        }
    }

    @Test
    void shouldSplitRequestsLargerThanTheMaximumPayload() throws Exception {
        int len = 34 * MIB; // QEMU refuses a 32 MiB + 4 KiB READ and drops the connection on such a WRITE
        byte[] data = new byte[len];
        new Random(7).nextBytes(data);
        byte[] back = new byte[len];
        try (NbdClient client = NbdClient.connect(uri)) {
            client.write(80L * MIB, data, 0, len);
            client.read(80L * MIB, back, 0, len);
            assertThat(Arrays.equals(data, back)).isTrue();
            byte[] model = new byte[40 * MIB];
            client.read(0, model, 0, model.length);
            assertThat(Arrays.equals(model, 0, model.length, expected, 0, model.length)).isTrue();
        }
    }

    @Test
    void shouldKeepManyReadsInFlight() throws Exception {
        int reads = 1000;
        int window = 16;
        Random random = new Random(1);
        Semaphore slots = new Semaphore(window);
        AtomicInteger maxInFlight = new AtomicInteger();
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        long bytes = 0;
        long t0 = System.nanoTime();
        try (NbdClient client = NbdClient.connect(uri)) {
            for (int i = 0; i < reads; i++) {
                int length = 4096 * (1 + random.nextInt(64)); // 4 KiB .. 256 KiB
                long offset = random.nextInt(MODEL - length + 1);
                byte[] buf = new byte[length];
                bytes += length;
                slots.acquire();
                CompletableFuture<Void> f = client.readAsync(offset, buf, 0, length);
                maxInFlight.accumulateAndGet(client.inFlight(), Math::max);
                all.add(f.whenComplete((v, e) -> {
                    slots.release();
                    if (e == null && !Arrays.equals(buf, 0, length, expected, (int) offset, (int) offset + length)) {
                        wrong.add("offset=" + offset + " length=" + length);
                    }
                }));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("NbdClientQemuTest: %d random reads (%d MiB), %d in flight at most: %.0f ms, %.0f MiB/s%n",
                reads, bytes / MIB, maxInFlight.get(), seconds * 1000, bytes / (double) MIB / seconds);
        assertThat(wrong).isEmpty();
        assertThat(maxInFlight.get()).isGreaterThan(1).isLessThanOrEqualTo(window);
    }

    @Test
    void shouldNameAnUnknownExport() {
        NbdUri missing = NbdUri.unix(uri.socket(), "nope");
        assertThatThrownBy(() -> NbdClient.connect(missing))
                .isInstanceOf(NbdException.class)
                .hasMessageContaining("'nope'")
                .hasMessageContaining("NBD_REP_ERR_UNKNOWN");
    }

    @Test
    void shouldFailAReadPastTheEndWithEinvalAndKeepTheConnection() throws Exception {
        try (NbdClient client = NbdClient.connect(uri)) {
            byte[] buf = new byte[8192];
            long offset = DISK - 4096;
            assertThatThrownBy(() -> client.read(offset, buf, 0, 8192))
                    .isInstanceOfSatisfying(NbdException.class, e -> {
                        assertThat(e.errno()).contains(NbdErrno.EINVAL);
                        assertThat(e.command()).contains(NbdCommand.READ);
                        assertThat(e.offset()).isEqualTo(offset);
                        assertThat(e.length()).isEqualTo(8192);
                    })
                    .hasMessageContaining("offset=" + offset)
                    .hasMessageContaining("'disk'")
                    .hasMessageContaining("EINVAL");
            client.read(0, buf, 0, 4096);
            assertThat(buf[4095]).isEqualTo((byte) 0x11);
        }
    }

    @Test
    void shouldRejectMisuseBeforeSending() throws Exception {
        try (NbdClient client = NbdClient.connect(uri, NbdClientOptions.defaults().withMetaContexts(List.of()))) {
            assertThatThrownBy(() -> client.blockStatusAsync(0, 4096)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no metadata context");
            assertThatThrownBy(() -> client.readAsync(-1, new byte[10], 0, 10)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> client.readAsync(0, new byte[10], 5, 10)).isInstanceOf(IndexOutOfBoundsException.class);
            client.read(8L * MIB, new byte[10], 0, 10); // still usable
        }
    }

    /** Whether the qcow2 maps {@code offset} to a host cluster, per {@code qemu-img map} (shared, read-only). */
    private static boolean hostCluster(long offset) throws Exception {
        JsonNode map = new ObjectMapper().readTree(run("qemu-img", "map", "-U", "--output=json", "-f", "qcow2",
                dir.resolve("disk.qcow2").toString()));
        for (JsonNode e : map) {
            long start = e.get("start").asLong();
            if (start <= offset && offset < start + e.get("length").asLong()) {
                assertThat(e.get("zero").asBoolean()).as("qemu-img map at " + offset).isTrue();
                return e.has("offset");
            }
        }
        throw new AssertionError("qemu-img map has no entry for " + offset);
    }

    private static void assertCovers(List<Extent> extents, long offset, long length) {
        long pos = offset;
        for (Extent e : extents) {
            assertThat(e.offset()).as("extents are contiguous").isEqualTo(pos);
            pos = e.end();
        }
        assertThat(pos).isEqualTo(offset + length);
    }

    private static int flagsAt(List<Extent> extents, long offset) {
        return extents.stream().filter(e -> e.offset() <= offset && offset < e.end()).findFirst()
                .orElseThrow(() -> new AssertionError("no extent at " + offset)).flags();
    }
}
