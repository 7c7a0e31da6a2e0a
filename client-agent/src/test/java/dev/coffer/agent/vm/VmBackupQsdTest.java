package dev.coffer.agent.vm;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static dev.coffer.agent.nbd.NbdServerProcess.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.agent.backup.BackupRun;
import dev.coffer.agent.nbd.NbdClient;
import dev.coffer.agent.nbd.NbdServerProcess;
import dev.coffer.agent.nbd.NbdUri;
import dev.coffer.agent.qmp.CheckpointName;
import dev.coffer.agent.qmp.DirtyBitmap;
import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpClient;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VmBackup} against a real qemu-storage-daemon with two qcow2 drives and a writable NBD
 * export of each live drive (the "guest" writes through it), one daemon for the class; each test
 * uses its own datastore uuid, so checkpoint chains never meet. No store: these tests read the
 * frozen views directly; the whole backup with a store is {@code QmpBackupIT} in deploy.
 */
final class VmBackupQsdTest {

    private static final int MIB = 1 << 20;
    private static final long DISK = 32L * MIB;
    private static final GroupId GROUP = new GroupId(null, "vm", "7");

    @TempDir
    static Path dir;

    private static NbdServerProcess qsd;
    private static Path qmpSocket;
    private static Path liveSocket;

    @BeforeAll
    static void start() throws Exception {
        qmpSocket = dir.resolve("qmp.sock");
        liveSocket = dir.resolve("live.sock");
        List<String> c = new ArrayList<>(List.of("qemu-storage-daemon"));
        List<String> exports = new ArrayList<>();
        for (String d : List.of("disk0", "disk1")) {
            Path image = dir.resolve(d + ".qcow2");
            run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(DISK));
            c.addAll(cmd("--blockdev", "driver=file,node-name=" + d + "-file,filename=" + image,
                    "--blockdev", "driver=qcow2,node-name=" + d + ",file=" + d + "-file"));
            exports.addAll(cmd("--export", "type=nbd,id=live-" + d + ",node-name=" + d + ",name=" + d + ",writable=on"));
        }
        Path raw = dir.resolve("raw0.img");
        run("truncate", "-s", Long.toString(DISK), raw.toString());
        c.addAll(cmd("--blockdev", "driver=file,node-name=raw0-file,filename=" + raw,
                "--blockdev", "driver=raw,node-name=raw0,file=raw0-file"));
        exports.addAll(cmd("--export", "type=nbd,id=live-raw0,node-name=raw0,name=raw0,writable=on"));
        c.addAll(cmd("--nbd-server", "addr.type=unix,addr.path=" + liveSocket));
        c.addAll(exports);
        c.addAll(cmd("--chardev", "socket,id=qmp0,path=" + qmpSocket + ",server=on,wait=off", "--monitor", "chardev=qmp0"));
        qsd = NbdServerProcess.onSocket(dir, "qemu-storage-daemon", qmpSocket, c);
    }

    @AfterAll
    static void stop() throws Exception {
        if (qsd != null) {
            qsd.close();
        }
    }

    private static Path scratch(String name) throws Exception {
        return Files.createDirectories(dir.resolve(name));
    }

    private static VmBackupOptions options(Path scratch, long limit) {
        return new VmBackupOptions(qmpSocket, List.of("disk0", "disk1"), scratch, limit, liveSocket, null);
    }

    private static void write(String disk, long offset, int length, int pattern) throws Exception {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) pattern);
        try (NbdClient c = NbdClient.connect(NbdUri.unix(liveSocket, disk))) {
            c.write(offset, b, 0, length);
            c.flush();
        }
    }

    private static byte firstByte(BackupRun.DiskSpec spec, long chunk, int chunkSize) throws Exception {
        byte[] b = new byte[chunkSize];
        spec.source().readChunk(chunk, b);
        return b[0];
    }

    /** A base restore point whose disks carry the checkpoints {@code specs} started. */
    private static Manifest baseOf(List<BackupRun.DiskSpec> specs) {
        var mb = Manifest.builder().snapshot(SnapshotId.of(GROUP, Instant.parse("2026-11-23T10:00:00Z"))).chunkSize(MIB)
                .createdBy("test");
        for (BackupRun.DiskSpec s : specs) {
            mb.addDisk(new ManifestDisk(s.name(), DISK, new ManifestDisk.IndexRef(s.name() + ".fidx", 4096 + 32 * 32,
                    dev.coffer.chunker.Digest.ZERO), ManifestDisk.Mode.FULL, "no-base", s.checkpoint(), Map.of()));
        }
        return mb.sign(null);
    }

    private static List<String> leftovers(Path scratch) throws Exception {
        List<String> out = new ArrayList<>();
        try (QmpClient c = QmpClient.connect(qmpSocket)) {
            QmpBlock q = new QmpBlock(c);
            q.queryBlockExports().stream().filter(e -> e.id().startsWith(VmBackup.TEMP_PREFIX)).forEach(e -> out.add(e.id()));
            q.queryBlockJobs().forEach(j -> out.add("job " + j.id()));
            q.queryNamedBlockNodes(true).forEach(n -> {
                if (n.nodeName().startsWith(VmBackup.TEMP_PREFIX)) {
                    out.add("node " + n.nodeName());
                }
                n.namedBitmaps().stream().filter(b -> b.name().startsWith(VmBackup.TEMP_PREFIX)).forEach(b -> out.add(b.name()));
            });
        }
        try (Stream<Path> files = Files.list(scratch)) {
            files.forEach(f -> out.add(f.toString()));
        }
        return out;
    }

    private static List<DirtyBitmap> checkpoints(String node, UUID ds) throws Exception {
        String key = CheckpointName.groupKey("", GROUP.type(), GROUP.id());
        try (QmpClient c = QmpClient.connect(qmpSocket)) {
            return new QmpBlock(c).bitmaps(node).stream()
                    .filter(b -> CheckpointName.parse(b.name()).filter(n -> n.belongsTo(ds, key)).isPresent()).toList();
        }
    }

    @Test
    void freezesEveryDriveAtOneInstantThenReadsOnlyWhatChangedSinceTheBase() throws Exception {
        UUID ds = UUID.randomUUID();
        Path scratch = scratch("pit");
        write("disk0", 0, 2 * MIB, 0x11);
        write("disk1", 0, 2 * MIB, 0x21);

        List<BackupRun.DiskSpec> first;
        try (VmBackup vm = VmBackup.connect(options(scratch, 0))) {
            first = vm.freeze(new BackupRun.Context(ds, MIB, null), GROUP);
            assertThat(first).extracting(BackupRun.DiskSpec::name).containsExactly("disk0", "disk1");
            assertThat(first).extracting(BackupRun.DiskSpec::bitmapReason).containsOnly("no-base");
            assertThat(first.getFirst().checkpoint().seq()).isEqualTo(1);
            assertThat(first.getFirst().checkpoint().node()).isEqualTo("disk0");
            assertThat(first.getFirst().checkpoint().granularity()).isPositive();
            assertThat(first.getFirst().checkpoint().freeze()).as("nodes without a device: a fleecing job").isEqualTo("job");
            assertThat(first.getFirst().source().hasDirtyBitmap()).isFalse();

            // the guest writes to both drives after the freeze: neither view sees it
            write("disk0", 0, MIB, 0x12);
            write("disk1", MIB, MIB, 0x22);
            assertThat(firstByte(first.get(0), 0, MIB)).isEqualTo((byte) 0x11);
            assertThat(firstByte(first.get(1), 1, MIB)).isEqualTo((byte) 0x21);
            assertThat(first.get(0).source().isZeroChunk(5)).as("never written").isTrue();
            vm.checkIntact();
        }
        assertThat(leftovers(scratch)).as("teardown removes every temporary thing").isEmpty();
        assertThat(checkpoints("disk0", ds)).singleElement().satisfies(b -> {
            assertThat(b.recording()).isTrue();
            assertThat(b.persistent()).isTrue();
        });

        write("disk0", 5L * MIB, 4096, 0x13); // after checkpoint 1: dirty next time, as is chunk 0 (written above)
        try (VmBackup vm = VmBackup.connect(options(scratch, 0))) {
            List<BackupRun.DiskSpec> second = vm.freeze(new BackupRun.Context(ds, MIB, baseOf(first)), GROUP);
            BackupRun.DiskSpec d0 = second.getFirst();
            assertThat(d0.bitmapReason()).isNull();
            assertThat(d0.source().hasDirtyBitmap()).isTrue();
            assertThat(d0.checkpoint().seq()).isEqualTo(2);
            assertThat(d0.source().isClean(0)).as("written after checkpoint 1").isFalse();
            assertThat(d0.source().isClean(5)).isFalse();
            assertThat(d0.source().isClean(1)).as("written before checkpoint 1 only").isTrue();
            assertThat(d0.source().isClean(3)).isTrue();
            assertThat(second.get(1).source().isClean(1)).isFalse();
            assertThat(second.get(1).source().isClean(0)).isTrue();
            assertThat(firstByte(d0, 0, MIB)).isEqualTo((byte) 0x12);
        }
        assertThat(leftovers(scratch)).isEmpty();
        List<DirtyBitmap> chain = checkpoints("disk0", ds);
        assertThat(chain).extracting(b -> CheckpointName.parse(b.name()).orElseThrow().seq()).containsExactlyInAnyOrder(1L, 2L);
        assertThat(chain).filteredOn(DirtyBitmap::recording).extracting(DirtyBitmap::name)
                .containsExactly(new CheckpointName(ds, CheckpointName.groupKey("", "vm", "7"), 2).name());
    }

    @Test
    void whatAKilledRunLeftIsRemovedByTheNextOne() throws Exception {
        UUID ds = UUID.randomUUID();
        Path scratch = scratch("killed");
        VmBackup killed = VmBackup.connect(options(scratch, 0));
        killed.freeze(new BackupRun.Context(ds, MIB, null), GROUP);
        killed.abandon();
        assertThat(leftovers(scratch)).as("a killed run leaves exports, jobs, nodes and scratch files").isNotEmpty();

        try (VmBackup next = VmBackup.connect(options(scratch, 0))) {
            assertThat(next.cleanedUp()).anyMatch(s -> s.startsWith("export "))
                    .anyMatch(s -> s.startsWith("job ")).anyMatch(s -> s.startsWith("node "))
                    .anyMatch(s -> s.startsWith("scratch file "));
        }
        assertThat(leftovers(scratch)).isEmpty();
        assertThat(checkpoints("disk0", ds)).as("the killed run's checkpoint stays in the chain").hasSize(1);
    }

    @Test
    void theScratchGuardBreaksTheBackupNeverTheGuest() throws Exception {
        UUID ds = UUID.randomUUID();
        Path scratch = scratch("guard");
        write("disk0", 8L * MIB, 8 * MIB, 0x31);
        try (VmBackup vm = VmBackup.connect(options(scratch, 2L * MIB))) {
            vm.freeze(new BackupRun.Context(ds, MIB, null), GROUP);
            vm.checkIntact();
            write("disk0", 8L * MIB, 8 * MIB, 0x32); // copies 8 MiB of old data into a scratch limited to 2 MiB
            long deadline = System.nanoTime() + 10_000_000_000L;
            boolean broken = false;
            while (!broken && System.nanoTime() < deadline) {
                try {
                    vm.checkIntact();
                    Thread.sleep(50);
                } catch (java.io.IOException e) {
                    assertThat(e).hasMessageContaining("no longer frozen").hasMessageContaining("--scratch-limit");
                    broken = true;
                }
            }
            assertThat(broken).as("the guard cancelled the freeze").isTrue();
        }
        byte[] back = new byte[4096];
        try (NbdClient c = NbdClient.connect(NbdUri.unix(liveSocket, "disk0"))) {
            c.read(15L * MIB, back, 0, back.length);
        }
        assertThat(back[0]).as("the guest's write went through").isEqualTo((byte) 0x32);
        assertThat(leftovers(scratch)).isEmpty();
    }

    @Test
    void aWriteFailingForLackOfSpaceEndsTheFreezeAtOnce() throws Exception {
        UUID ds = UUID.randomUUID();
        Path scratch = scratch("nospace");
        Path proxied = dir.resolve("inject.sock");
        try (QmpEventInjector injector = QmpEventInjector.start(proxied, qmpSocket);
                VmBackup vm = VmBackup.connect(new VmBackupOptions(proxied, List.of("disk0", "disk1"), scratch, 0, liveSocket, null))) {
            vm.freeze(new BackupRun.Context(ds, MIB, null), GROUP);
            vm.checkIntact();
            // what QEMU sends when a guest device's write fails with ENOSPC and its werror policy
            // stops the VM; the scratch filesystem has room, so only this event can end the freeze
            injector.inject("{\"event\":\"BLOCK_IO_ERROR\",\"data\":{\"device\":\"\",\"node-name\":\"disk0\","
                    + "\"operation\":\"write\",\"action\":\"stop\",\"nospace\":true,\"reason\":\"No space left on device\"},"
                    + "\"timestamp\":{\"seconds\":1764806400,\"microseconds\":0}}");
            long deadline = System.nanoTime() + 10_000_000_000L;
            String failure = null;
            while (failure == null && System.nanoTime() < deadline) {
                try {
                    vm.checkIntact();
                    Thread.sleep(20);
                } catch (java.io.IOException e) {
                    failure = e.getMessage();
                }
            }
            assertThat(failure).as("the freeze ended").isNotNull()
                    .contains("no longer frozen")
                    .contains("QEMU reported a write failing for lack of space on node disk0")
                    .contains("the fleecing jobs were cancelled so the guest's writes keep succeeding");
        }
        assertThat(leftovers(scratch)).isEmpty();
        assertThat(checkpoints("disk0", ds)).as("the new checkpoint stays in the chain").hasSize(1);
    }

    @Test
    void aRunningNbdServerWithoutItsAddressIsAClearErrorAndLeavesNothing() throws Exception {
        Path scratch = scratch("noaddr");
        VmBackupOptions o = new VmBackupOptions(qmpSocket, List.of("disk1"), scratch, 0, null, null);
        try (VmBackup vm = VmBackup.connect(o)) {
            assertThatThrownBy(() -> vm.freeze(new BackupRun.Context(UUID.randomUUID(), MIB, null), GROUP))
                    .hasMessageContaining("already runs an NBD server").hasMessageContaining("--nbd-socket");
        }
        assertThat(leftovers(scratch)).isEmpty();
    }

    @Test
    void anUnknownDriveNamesWhatExists() {
        VmBackupOptions o = new VmBackupOptions(qmpSocket, List.of("vdz"), dir, 0, liveSocket, null);
        assertThatThrownBy(() -> VmBackup.connect(o)).hasMessageContaining("vdz").hasMessageContaining("disk0")
                .hasMessageContaining("disk1");
    }

    @Test
    void withoutAnNbdServerItStartsAPrivateOneAndStopsItAfterwards() throws Exception {
        Path d = Files.createDirectories(dir.resolve("private"));
        Path image = d.resolve("p.qcow2");
        Path qmp = d.resolve("qmp.sock");
        run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(DISK));
        try (NbdServerProcess p = NbdServerProcess.onSocket(d, "qsd-private", qmp, cmd("qemu-storage-daemon",
                "--blockdev", "driver=file,node-name=pf,filename=" + image, "--blockdev", "driver=qcow2,node-name=p,file=pf",
                "--chardev", "socket,id=m,path=" + qmp + ",server=on,wait=off", "--monitor", "chardev=m"))) {
            Path scratch = scratch("private-scratch");
            try (VmBackup vm = VmBackup.connect(new VmBackupOptions(qmp, List.of("p"), scratch, 0, null, null))) {
                List<BackupRun.DiskSpec> specs = vm.freeze(new BackupRun.Context(UUID.randomUUID(), MIB, null), GROUP);
                assertThat(specs.getFirst().source().size()).isEqualTo(DISK);
                assertThat(specs.getFirst().source().isZeroChunk(0)).isTrue();
                assertThat(VmBackup.privateSocket(new VmBackupOptions(qmp, List.of("p"), scratch, 0, null, null)))
                        .as("a private server's socket next to the QMP socket").exists();
            }
            assertThat(leftovers(scratch)).as("scratch gone").isEmpty();
            assertThat(VmBackup.privateSocket(new VmBackupOptions(qmp, List.of("p"), scratch, 0, null, null))).doesNotExist();
            try (QmpClient c = QmpClient.connect(qmp)) {
                QmpBlock q = new QmpBlock(c);
                assertThat(q.startNbdServerUnix(d.resolve("again.sock"))).as("the private server was stopped").isTrue();
                q.stopNbdServer();
            }
        }
    }

    /**
     * {@code --fsfreeze} with a guest agent that refuses to freeze (qemu-ga on this machine with the
     * freeze commands disabled: a test must never freeze the machine it runs on): the backup fails
     * before any drive is frozen and leaves nothing behind.
     */
    @Test
    void aGuestAgentThatCannotFreezeFailsTheBackupCleanly() throws Exception {
        Path qgaSocket = dir.resolve("qga.sock");
        Process qga = new ProcessBuilder("qemu-ga", "-m", "unix-listen", "-p", qgaSocket.toString(), "-t", dir.toString(),
                "-f", dir.resolve("qga.pid").toString(), "-b", "guest-fsfreeze-freeze,guest-fsfreeze-freeze-list,guest-fsfreeze-thaw")
                .redirectErrorStream(true).redirectOutput(dir.resolve("qga.log").toFile()).start();
        try {
            while (!Files.exists(qgaSocket)) {
                assertThat(qga.isAlive()).isTrue();
                Thread.sleep(10);
            }
            Path scratch = scratch("fsfreeze");
            VmBackupOptions o = new VmBackupOptions(qmpSocket, List.of("disk1"), scratch, 0, liveSocket, null, qgaSocket);
            UUID ds = UUID.randomUUID();
            try (VmBackup vm = VmBackup.connect(o)) {
                assertThatThrownBy(() -> vm.freeze(new BackupRun.Context(ds, MIB, null), GROUP))
                        .hasMessageContaining("refused guest-fsfreeze-freeze");
            }
            assertThat(leftovers(scratch)).isEmpty();
            assertThat(checkpoints("disk1", ds)).as("no checkpoint without a freeze").isEmpty();
        } finally {
            qga.destroy();
            qga.waitFor();
        }
    }

    /** A raw image cannot store bitmaps: its checkpoints live in QEMU's memory, still incremental until QEMU restarts. */
    @Test
    void aRawDriveGetsInMemoryCheckpoints() throws Exception {
        UUID ds = UUID.randomUUID();
        Path scratch = scratch("raw");
        write("raw0", 0, MIB, 0x71);
        VmBackupOptions o = new VmBackupOptions(qmpSocket, List.of("raw0"), scratch, 0, liveSocket, null);
        List<BackupRun.DiskSpec> first;
        try (VmBackup vm = VmBackup.connect(o)) {
            first = vm.freeze(new BackupRun.Context(ds, MIB, null), GROUP);
        }
        assertThat(checkpoints("raw0", ds)).singleElement().satisfies(b -> {
            assertThat(b.persistent()).as("raw cannot persist bitmaps").isFalse();
            assertThat(b.recording()).isTrue();
        });
        write("raw0", 3L * MIB, 4096, 0x72);
        try (VmBackup vm = VmBackup.connect(o)) {
            BackupRun.DiskSpec d = vm.freeze(new BackupRun.Context(ds, MIB, baseOf(first)), GROUP).getFirst();
            assertThat(d.bitmapReason()).isNull();
            assertThat(d.source().isClean(3)).isFalse();
            assertThat(d.source().isClean(0)).isTrue();
        }
        assertThat(leftovers(scratch)).isEmpty();
    }
}
