package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static dev.coffer.e2e.CofferProcess.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups from an NBD export someone else set up, as libvirt's pull mode hands one over: a qcow2
 * exported read-only by qemu-nbd, later with a persistent dirty bitmap ({@code -B}). Real
 * {@code coffer server}, {@code coffer backup} and {@code coffer restore} processes; restores are
 * compared with {@code qemu-img convert -O raw} of the qcow2.
 */
final class NbdBackupIT {

    private static final int CS = 64 * 1024;
    private static final long SIZE = 64L << 20;

    @TempDir
    static Path work;
    static CofferProcess.Server server;
    static Map<String, String> admin;

    @BeforeAll
    static void start() throws Exception {
        server = CofferProcess.server(work, "--datastore", work.resolve("ds").toString(), "--chunk-size", Integer.toString(CS));
        admin = server.env(server.start.get("token").asText());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void shouldBackUpOnlyDirtyChunksWhenTheBitmapIsTrustedAndRestoreBitIdentical() throws Exception {
        Path qcow = qcow2("inc", 11);
        long dataChunks = dataChunks();

        JsonNode first;
        try (QemuNbd nbd = QemuNbd.export(qcow, null)) {
            first = ok(admin, "backup", "vm/1", "--source", "vda=" + nbd.uri(), "--json").json();
        }
        JsonNode d0 = first.get("disks").get(0);
        assertThat(d0.get("name").asText()).isEqualTo("vda");
        assertThat(d0.get("mode").asText()).isEqualTo("full");
        assertThat(d0.get("reason").asText()).isEqualTo("no-base");
        assertThat(d0.get("size").asLong()).isEqualTo(SIZE);
        assertThat(d0.get("read_bytes").asLong()).as("ZERO extents are not read").isEqualTo(dataChunks * CS);
        assertThat(d0.get("uploaded_chunks").asLong()).isEqualTo(dataChunks);
        assertThat(d0.get("zero_bytes").asLong()).isEqualTo(SIZE - dataChunks * CS);

        // libvirt would start a checkpoint here; by hand: a persistent bitmap, then guest writes
        tool("qemu-img", "bitmap", "--add", qcow.toString(), "b1");
        tool("qemu-io", "-f", "qcow2",
                "-c", "write -P 0xa1 " + (4L * CS + 100) + " 1000", // a data chunk, partly
                "-c", "write -P 0xa2 " + ((10L << 20) + 5 * CS) + " 4096", // another data chunk
                "-c", "write -P 0xa3 " + (30L << 20) + " 65536", // a chunk that was zero
                qcow.toString());
        Thread.sleep(1100); // restore point times have whole seconds
        JsonNode second;
        try (QemuNbd nbd = QemuNbd.export(qcow, "b1")) {
            second = ok(admin, "backup", "vm/1", "--source", "vda=" + nbd.uri(), "--bitmap", "b1", "--json").json();
        }
        JsonNode d1 = second.get("disks").get(0);
        assertThat(d1.get("mode").asText()).isEqualTo("incremental");
        assertThat(d1.get("reason").isNull()).as("reason is null for incremental: %s", d1).isTrue();
        long sampled = d1.get("sampled_bytes").asLong();
        assertThat(sampled).isEqualTo(8L * CS);
        assertThat(d1.get("read_bytes").asLong()).as("the 3 dirty chunks and the sample").isEqualTo(3L * CS + sampled);
        assertThat(d1.get("uploaded_chunks").asLong()).isEqualTo(3);
        assertThat(d1.get("reused_bytes").asLong()).as("clean data chunks from the base, unread")
                .isEqualTo((dataChunks - 2) * CS);
        assertThat(d1.get("zero_bytes").asLong()).isEqualTo(SIZE - (dataChunks + 1) * CS);

        Path out = work.resolve("inc.out");
        ok(admin, "restore", second.get("snapshot").asText(), "--disk", "vda", "--to", "file:" + out);
        assertThat(Images.sha256(out)).isEqualTo(Images.sha256(raw(qcow)));
    }

    @Test
    void shouldDistrustABitmapThatMissedWritesAndReadEverything() throws Exception {
        Path qcow = qcow2("lie", 12);
        long dataChunks = dataChunks();
        try (QemuNbd nbd = QemuNbd.export(qcow, null)) {
            ok(admin, "backup", "vm/2", "--source", nbd.uri(), "--json");
        }
        // writes the bitmap never sees: every data chunk changes, so any sample catches it
        List<String> io = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
        for (long c = 0; c < SIZE / CS; c++) {
            if (isData(c)) {
                io.addAll(List.of("-c", "write -P 0x5" + (c % 10) + " " + (c * CS + 512) + " 512"));
            }
        }
        io.add(qcow.toString());
        tool(io.toArray(String[]::new));
        tool("qemu-img", "bitmap", "--add", qcow.toString(), "late");
        tool("qemu-io", "-f", "qcow2", "-c", "write -P 0xb1 " + (50L << 20) + " 4096", qcow.toString());
        Thread.sleep(1100);
        JsonNode r;
        try (QemuNbd nbd = QemuNbd.export(qcow, "late")) {
            r = ok(admin, "backup", "vm/2", "--source", nbd.uri(), "--bitmap", "late", "--json").json();
        }
        JsonNode d = r.get("disks").get(0);
        assertThat(d.get("mode").asText()).isEqualTo("diff");
        assertThat(d.get("reason").asText()).isEqualTo("sample-mismatch");
        assertThat(d.get("sampled_bytes").asLong()).isEqualTo(8L * CS);
        assertThat(d.get("read_bytes").asLong()).as("every allocated chunk, plus the sample")
                .isEqualTo((dataChunks + 1) * CS + 8L * CS);
        assertThat(d.get("uploaded_chunks").asLong()).isEqualTo(dataChunks + 1);
        assertThat(d.get("reused_bytes").asLong()).isZero();

        Path out = work.resolve("lie.out");
        ok(admin, "restore", r.get("snapshot").asText(), "--to", "file:" + out);
        assertThat(Images.sha256(out)).isEqualTo(Images.sha256(raw(qcow)));
    }

    @Test
    void shouldRestoreIntoAWritableNbdExportAndRefuseOneTooSmall() throws Exception {
        Path qcow = qcow2("rst", 21);
        // the first and the last data chunk get the same content: the restore fetches it once and
        // copies it on the target, read back over NBD
        long firstData = 0;
        long lastData = SIZE / CS - 1;
        while (!isData(firstData)) {
            firstData++;
        }
        while (!isData(lastData)) {
            lastData--;
        }
        tool("qemu-io", "-f", "qcow2", "-c", "write -P 0x77 " + firstData * CS + " " + CS, "-c",
                "write -P 0x77 " + lastData * CS + " " + CS, qcow.toString());
        JsonNode b;
        try (QemuNbd nbd = QemuNbd.export(qcow, null)) {
            b = ok(admin, "backup", "vm/4", "--source", "vda=" + nbd.uri(), "--json").json();
        }
        Path target = work.resolve("target.qcow2");
        tool("qemu-img", "create", "-f", "qcow2", target.toString(), Long.toString(SIZE));
        JsonNode r;
        try (QemuNbd nbd = QemuNbd.export(target, null, false)) {
            r = ok(admin, "restore", b.get("snapshot").asText(), "--to", nbd.uri(), "--json").json();
        }
        assertThat(r.get("disks").get(0).get("written_bytes").asLong()).isEqualTo(dataChunks() * CS);
        assertThat(r.get("disks").get(0).get("reused_bytes").asLong()).isEqualTo(CS);
        assertThat(Images.sha256(raw(target))).isEqualTo(Images.sha256(raw(qcow)));

        Path small = work.resolve("small.qcow2");
        tool("qemu-img", "create", "-f", "qcow2", small.toString(), Long.toString(SIZE / 2));
        try (QemuNbd nbd = QemuNbd.export(small, null, false)) {
            CofferProcess.Run tooSmall = run(admin, "restore", b.get("snapshot").asText(), "--to", nbd.uri());
            assertThat(tooSmall.code()).isEqualTo(1);
            assertThat(tooSmall.err()).contains("smaller than the disk's " + SIZE + " bytes");
        }
        try (QemuNbd nbd = QemuNbd.export(qcow, null)) {
            CofferProcess.Run readOnly = run(admin, "restore", b.get("snapshot").asText(), "--to", nbd.uri());
            assertThat(readOnly.code()).isEqualTo(1);
            assertThat(readOnly.err()).contains("is read-only");
        }
    }

    @Test
    void shouldRefuseABitmapForAFileAndQmpSources() throws Exception {
        Path img = Images.sparse(work.resolve("f.img"), 1 << 20, 3, 0, 1 << 20);
        CofferProcess.Run file = run(admin, "backup", "vm/3", "--source", "file:" + img, "--bitmap", "b1");
        assertThat(file.code()).isEqualTo(1);
        assertThat(file.err()).contains("--bitmap applies to NBD sources only").contains("drive0");
        CofferProcess.Run qmp = run(admin, "backup", "vm/3", "--source", "qmp:/run/qemu.sock", "--drive", "vda", "--bitmap", "b1");
        assertThat(qmp.code()).isEqualTo(1);
        assertThat(qmp.err()).contains("--bitmap is for NBD sources");
        CofferProcess.Run noDrive = run(admin, "backup", "vm/3", "--source", "qmp:/run/qemu.sock");
        assertThat(noDrive.code()).isEqualTo(1);
        assertThat(noDrive.err()).contains("needs at least one --drive");
        CofferProcess.Run mixed = run(admin, "backup", "vm/3", "--source", "file:" + img, "--drive", "vda");
        assertThat(mixed.code()).isEqualTo(1);
        assertThat(mixed.err()).contains("go with --source qmp:PATH only");
        CofferProcess.Run missing = run(admin, "backup", "vm/3", "--source",
                "nbd+unix:///vda?socket=" + work.resolve("nobody.sock"), "--bitmap", "b1");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("nobody.sock");
    }

    // ------------------------------------------------------------------ the image

    /** 1 MiB at 0, 2 MiB at 10 MiB, 300 KiB at 40 MiB + 100 KB: chunk-aligned except the last. */
    private static final long[] EXTENTS = {0, 1 << 20, 10L << 20, 2 << 20, (40L << 20) + 100_000, 300 << 10};

    private static boolean isData(long chunk) {
        long a = chunk * CS;
        long b = a + CS;
        for (int i = 0; i < EXTENTS.length; i += 2) {
            if (a < EXTENTS[i] + EXTENTS[i + 1] && EXTENTS[i] < b) {
                return true;
            }
        }
        return false;
    }

    private static long dataChunks() {
        long n = 0;
        for (long c = 0; c < SIZE / CS; c++) {
            if (isData(c)) {
                n++;
            }
        }
        return n;
    }

    /** A qcow2 (64 KiB clusters) holding random data in {@link #EXTENTS}; everything else unallocated. */
    private static Path qcow2(String name, long seed) throws Exception {
        Path raw = Images.sparse(work.resolve(name + ".src.raw"), SIZE, seed, EXTENTS);
        Path qcow = work.resolve(name + ".qcow2");
        tool("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), qcow.toString());
        Files.delete(raw);
        return qcow;
    }

    /**
     * An export that fails every read (nbdkit's error filter) and one that stops answering (its delay
     * filter, longer than {@code --nbd-timeout}) each fail the backup with a message naming the
     * request and offset, and publish nothing.
     */
    @Test
    void shouldFailCleanlyWhenTheNbdServerErrorsOrStalls() throws Exception {
        Path img = Images.random(work.resolve("faulty.img"), 8L << 20, 9);
        for (String[] fault : List.of(new String[] {"--filter=error", "error-pread-rate=100%", "error-pread=EIO"},
                new String[] {"--filter=delay", "rdelay=30", ""})) {
            Path socket = work.resolve("nbdkit-" + System.nanoTime() + ".sock");
            List<String> cmd = new ArrayList<>(List.of("nbdkit", "--foreground", "--exit-with-parent", "--unix=" + socket,
                    fault[0], "file", "file=" + img, fault[1]));
            if (!fault[2].isEmpty()) {
                cmd.add(fault[2]);
            }
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("nbdkit.log").toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!Files.exists(socket)) {
                    assertThat(p.isAlive() && System.nanoTime() < deadline).as("nbdkit started: %s",
                            Files.readString(work.resolve("nbdkit.log"))).isTrue();
                    Thread.sleep(20);
                }
                CofferProcess.Run r = run(admin, "backup", "vm/9", "--source", "vda=nbd+unix:///?socket=" + socket,
                        "--nbd-timeout", "2");
                assertThat(r.code()).as(r.out()).isEqualTo(1);
                assertThat(r.err()).contains("READ offset=");
                assertThat(r.err()).contains(fault[0].equals("--filter=error") ? "EIO" : "no reply within 2 s");
            } finally {
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
        CofferProcess.Run list = run(admin, "snapshots", "vm/9", "--json");
        assertThat(list.code()).isZero();
        assertThat(list.json()).as("nothing published").isEmpty();
    }

    /** What the qcow2 holds now, as a raw image. */
    private static Path raw(Path qcow) throws Exception {
        Path raw = work.resolve(qcow.getFileName() + ".raw");
        Files.deleteIfExists(raw);
        tool("qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow.toString(), raw.toString());
        return raw;
    }

    private static String tool(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), out).isZero();
        return out;
    }

    /** {@code qemu-nbd --read-only [-B bitmap]} on a unix socket, as libvirt's pull mode exports a disk. */
    private record QemuNbd(Process process, Path socket) implements AutoCloseable {

        static QemuNbd export(Path image, String bitmap) throws Exception {
            return export(image, bitmap, true);
        }

        static QemuNbd export(Path image, String bitmap, boolean readOnly) throws Exception {
            Path socket = work.resolve("nbd-" + System.nanoTime() + ".sock");
            List<String> cmd = new ArrayList<>(List.of("qemu-nbd", "--socket=" + socket, "--export-name=vda", "--format=qcow2",
                    "--persistent", "--shared=4"));
            if (readOnly) {
                cmd.add("--read-only");
            }
            if (bitmap != null) {
                cmd.add("--bitmap=" + bitmap);
            }
            cmd.add(image.toString());
            Path log = work.resolve(socket.getFileName() + ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.exists(socket)) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    throw new IOException("qemu-nbd did not start: " + Files.readString(log));
                }
                Thread.sleep(20);
            }
            return new QemuNbd(p, socket);
        }

        String uri() {
            return "nbd+unix:///vda?socket=" + socket;
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
