package dev.coffer.agent.vm;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static dev.coffer.agent.nbd.NbdServerProcess.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.backup.BackupRun;
import dev.coffer.agent.nbd.NbdServerProcess;
import dev.coffer.agent.qmp.BlockDevice;
import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpClient;
import dev.coffer.chunker.GroupId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest-device freeze (copy-before-write + snapshot-access) against a real QEMU system emulator:
 * a q35 VM whose only disk is a virtio-blk device on a qcow2 node; the guest runs nothing but
 * firmware, and its "writes" go through the device with HMP {@code qemu-io -d}. A second monitor lets
 * the test write while the backup holds the first. One VM for the class; each test its own datastore.
 */
final class VmBackupDeviceTest {

    private static final int MIB = 1 << 20;
    private static final long DISK = 32L * MIB;
    private static final GroupId GROUP = new GroupId(null, "vm", "9");
    private static final String BACKEND = "/machine/peripheral/vda/virtio-backend";

    @TempDir
    static Path dir;

    private static NbdServerProcess vm;
    private static Path qmp;
    private static Path qmp2;

    @BeforeAll
    static void start() throws Exception {
        qmp = dir.resolve("qmp.sock");
        qmp2 = dir.resolve("qmp2.sock");
        Path image = dir.resolve("vda.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(DISK));
        vm = NbdServerProcess.onSocket(dir, "qemu-system", qmp2, cmd("qemu-system-x86_64", "-machine", "q35", "-accel", "tcg",
                "-nodefaults", "-display", "none", "-m", "64",
                "-qmp", "unix:" + qmp + ",server=on,wait=off", "-qmp", "unix:" + qmp2 + ",server=on,wait=off",
                "-blockdev", "driver=file,node-name=disk0-file,filename=" + image,
                "-blockdev", "driver=qcow2,node-name=disk0,file=disk0-file",
                "-device", "virtio-blk-pci,drive=disk0,id=vda"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (vm != null) {
            vm.close();
        }
    }

    /** The guest writes through its device (second monitor). */
    private static void guestWrite(long offset, int length, int pattern) throws Exception {
        try (QmpClient c = QmpClient.connect(qmp2)) {
            ObjectNode a = c.args();
            a.put("command-line", "qemu-io -d " + BACKEND + " \"write -P " + pattern + " " + offset + " " + length + "\"");
            String out = c.execute("human-monitor-command", a).asText();
            assertThat(out).as("qemu-io output").doesNotContain("error").doesNotContain("failed");
        }
    }

    private static BlockDevice device(QmpClient c) throws Exception {
        return new QmpBlock(c).queryBlock().getFirst();
    }

    private static VmBackupOptions options(Path scratch) {
        return new VmBackupOptions(qmp, List.of("vda"), scratch, 0, null, null);
    }

    private static List<String> leftovers(Path scratch) throws Exception {
        List<String> out = new ArrayList<>();
        try (QmpClient c = QmpClient.connect(qmp2)) {
            QmpBlock q = new QmpBlock(c);
            q.queryNamedBlockNodes(true).stream().map(n -> n.nodeName()).filter(n -> n.startsWith(VmBackup.TEMP_PREFIX))
                    .forEach(out::add);
            q.queryBlockExports().forEach(e -> out.add("export " + e.id()));
            assertThat(device(c).nodeName()).as("the device is back on its own node").isEqualTo("disk0");
            assertThat(q.running()).as("the guest runs").isTrue();
        }
        try (Stream<Path> files = Files.list(scratch)) {
            files.forEach(f -> out.add(f.toString()));
        }
        return out;
    }

    private static byte firstByte(BackupRun.DiskSpec spec, long chunk) throws Exception {
        byte[] b = new byte[MIB];
        spec.source().readChunk(chunk, b);
        return b[0];
    }

    @Test
    void aDeviceIsFrozenThroughAFilterAndPutBackOnItsNode() throws Exception {
        Path scratch = Files.createDirectories(dir.resolve("cbw"));
        guestWrite(0, 2 * MIB, 0x41);
        try (VmBackup b = VmBackup.connect(options(scratch))) {
            assertThat(b.drives().getFirst().qomPath()).isEqualTo("/machine/peripheral/vda");
            List<BackupRun.DiskSpec> specs = b.freeze(new BackupRun.Context(UUID.randomUUID(), MIB, null), GROUP);
            BackupRun.DiskSpec vda = specs.getFirst();
            assertThat(vda.name()).isEqualTo("vda");
            assertThat(vda.checkpoint().node()).as("the checkpoint lives on the drive's node").isEqualTo("disk0");
            assertThat(vda.checkpoint().freeze()).isEqualTo("filter");
            guestWrite(0, MIB, 0x42); // after the freeze instant
            guestWrite(4L * MIB, MIB, 0x43);
            assertThat(firstByte(vda, 0)).isEqualTo((byte) 0x41);
            assertThat(firstByte(vda, 4)).as("the view keeps the old (unwritten) state").isZero();
            assertThat(vda.source().isZeroChunk(28)).as("never written: not read").isTrue();
            b.checkIntact();
        }
        assertThat(leftovers(scratch)).isEmpty();
        guestWrite(8L * MIB, 4096, 0x44); // the device works on its own node again
    }

    @Test
    void aKilledRunsFilterIsTakenOutOfTheDevicePath() throws Exception {
        Path scratch = Files.createDirectories(dir.resolve("killed"));
        VmBackup killed = VmBackup.connect(options(scratch));
        killed.freeze(new BackupRun.Context(UUID.randomUUID(), MIB, null), GROUP);
        killed.abandon();
        try (QmpClient c = QmpClient.connect(qmp2)) {
            assertThat(device(c).nodeName()).as("left on the filter").startsWith(VmBackup.TEMP_PREFIX);
        }
        try (VmBackup next = VmBackup.connect(options(scratch))) {
            assertThat(next.cleanedUp()).anyMatch(s -> s.startsWith("filter ")).anyMatch(s -> s.startsWith("node "))
                    .anyMatch(s -> s.startsWith("NBD server on "));
            assertThat(next.drives().getFirst().nodeName()).as("resolved after the cleanup").isEqualTo("disk0");
        }
        assertThat(leftovers(scratch)).isEmpty();
    }

    @Test
    void aFullScratchBreaksTheViewNeverTheGuest() throws Exception {
        String uid = run("id", "-u").trim();
        assumeTrue(uid.equals("0"), "needs root to mount a 4 MiB tmpfs (id -u is " + uid + "); CI runs it as root");
        Path mnt = Files.createDirectories(dir.resolve("tiny"));
        run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt.toString());
        try {
            guestWrite(8L * MIB, 16 * MIB, 0x51);
            try (VmBackup b = VmBackup.connect(options(mnt))) {
                BackupRun.DiskSpec vda = b.freeze(new BackupRun.Context(UUID.randomUUID(), MIB, null), GROUP).getFirst();
                guestWrite(8L * MIB, 16 * MIB, 0x52); // 16 MiB of old data cannot fit into 4 MiB
                try (QmpClient c = QmpClient.connect(qmp2)) {
                    assertThat(new QmpBlock(c).running()).as("the guest was not paused").isTrue();
                }
                assertThatThrownBy(() -> firstByte(vda, 0)).hasMessageContaining("frozen view of drive vda broke");
            }
            assertThat(leftovers(mnt)).isEmpty();
        } finally {
            run("umount", "-l", mnt.toString());
        }
    }
}
