package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpClient;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coffer backup --source qmp:} of a real VM's guest device, end to end through the CLI: a
 * q35 QEMU whose only disk is a virtio-blk device on a qcow2 (the guest runs only firmware; its
 * writes go through the device with HMP {@code qemu-io -d}, on a second monitor). The view is the
 * copy-before-write filter path; restores are compared with the bytes the guest wrote.
 */
final class VmDeviceBackupIT {

    private static final int MIB = 1 << 20;
    private static final long DISK = 32L * MIB;
    private static final String BACKEND = "/machine/peripheral/vda/virtio-backend";

    @TempDir
    static Path work;
    static CofferProcess.Server server;
    static Map<String, String> admin;
    static Process vm;
    static Path qmp;
    static Path qmp2;
    /** What the guest's disk holds: every guest write is applied here too. */
    static Path expected;

    @BeforeAll
    static void start() throws Exception {
        server = CofferProcess.server(work, "--datastore", work.resolve("ds").toString(), "--chunk-size", Integer.toString(MIB));
        admin = server.env(server.start.get("token").asText());
        Path image = work.resolve("vda.qcow2");
        exec("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(DISK));
        expected = work.resolve("expected.raw");
        try (RandomAccessFile f = new RandomAccessFile(expected.toFile(), "rw")) {
            f.setLength(DISK);
        }
        qmp = work.resolve("qmp.sock");
        qmp2 = work.resolve("qmp2.sock");
        vm = new ProcessBuilder("qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-nodefaults", "-display", "none",
                "-m", "64", "-qmp", "unix:" + qmp + ",server=on,wait=off", "-qmp", "unix:" + qmp2 + ",server=on,wait=off",
                "-blockdev", "driver=file,node-name=vda-file,filename=" + image,
                "-blockdev", "driver=qcow2,node-name=vda-fmt,file=vda-file",
                "-device", "virtio-blk-pci,drive=vda-fmt,id=vda").redirectErrorStream(true)
                .redirectOutput(work.resolve("qemu.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(Files.exists(qmp) && Files.exists(qmp2))) {
            assertThat(vm.isAlive() && System.nanoTime() < deadline).as("QEMU started: %s",
                    Files.readString(work.resolve("qemu.log"))).isTrue();
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (vm != null) {
            vm.destroy();
            vm.waitFor(30, TimeUnit.SECONDS);
        }
        server.close();
    }

    /** A guest write through the device, mirrored into {@link #expected}. */
    private static void guestWrite(long offset, int length, int pattern) throws Exception {
        try (QmpClient c = QmpClient.connect(qmp2)) {
            ObjectNode a = c.args();
            a.put("command-line", "qemu-io -d " + BACKEND + " \"write -P " + pattern + " " + offset + " " + length + "\"");
            assertThat(c.execute("human-monitor-command", a).asText()).doesNotContain("error").doesNotContain("failed");
        }
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) pattern);
        try (RandomAccessFile f = new RandomAccessFile(expected.toFile(), "rw")) {
            f.seek(offset);
            f.write(b);
        }
    }

    private static String[] backup() {
        return new String[] {"backup", "vm/20", "--source", "qmp:" + qmp, "--drive", "vda", "--scratch", work.toString(), "--json"};
    }

    private static void assertRestores(JsonNode r, String sha) throws Exception {
        Path out = work.resolve("restored-" + System.nanoTime() + ".raw");
        ok(admin, "restore", r.get("snapshot").asText(), "--disk", "vda", "--to", "file:" + out);
        assertThat(Images.sha256(out)).isEqualTo(sha);
        Files.delete(out);
    }

    @Test
    void aGuestDeviceIsBackedUpIncrementallyAndTheVmKeepsRunning() throws Exception {
        guestWrite(0, 2 * MIB, 0x41);
        guestWrite(20L * MIB, MIB, 0x42);
        String sha1 = Images.sha256(expected);
        JsonNode full = ok(admin, backup()).json();
        JsonNode d = full.get("disks").get(0);
        assertThat(d.get("name").asText()).isEqualTo("vda");
        assertThat(d.get("mode").asText()).isEqualTo("full");
        assertThat(d.get("read_bytes").asLong()).as("the allocated chunks only").isEqualTo(3L * MIB);
        // a device drive is frozen by pausing the guest around the filter insertion (and the teardown)
        assertThat(full.get("guest_paused_s").asDouble()).as("the guest was paused, and said so").isPositive()
                .isLessThan(full.get("duration_s").asDouble() + 5);
        System.out.println("VmDeviceBackupIT: guest paused " + full.get("guest_paused_s").asDouble() * 1000 + " ms (full backup)");
        assertRestores(full, sha1);

        guestWrite(10L * MIB + 512, 4096, 0x43);
        String sha2 = Images.sha256(expected);
        JsonNode inc = ok(admin, backup()).json();
        JsonNode i = inc.get("disks").get(0);
        assertThat(i.get("mode").asText()).isEqualTo("incremental");
        assertThat(i.get("read_bytes").asLong() - i.get("sampled_bytes").asLong()).as("one dirty chunk").isEqualTo(MIB);
        assertThat(inc.get("guest_paused_s").asDouble()).isPositive();
        System.out.println("VmDeviceBackupIT: guest paused " + inc.get("guest_paused_s").asDouble() * 1000 + " ms (incremental)");
        assertRestores(inc, sha2);

        try (QmpClient c = QmpClient.connect(qmp2)) {
            QmpBlock q = new QmpBlock(c);
            assertThat(q.running()).as("the guest runs").isTrue();
            assertThat(q.queryBlock().getFirst().nodeName()).as("the device is back on its node").isEqualTo("vda-fmt");
            assertThat(q.queryNamedBlockNodes(true)).noneMatch(n -> n.nodeName().startsWith("cofferx-"));
        }
        try (var files = Files.list(work)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("cofferx-"));
        }
    }

    private static void exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + out);
        }
    }
}
