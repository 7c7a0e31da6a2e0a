package dev.coffer.agent.qmp;

import static dev.coffer.agent.nbd.NbdServerProcess.run;
import static dev.coffer.agent.qmp.QemuStorageDaemon.NODE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.nbd.BlockStatus;
import dev.coffer.agent.nbd.Extent;
import dev.coffer.agent.nbd.NbdClient;
import dev.coffer.agent.nbd.NbdClientOptions;
import dev.coffer.agent.nbd.NbdUri;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QmpClient and QmpBlock against a real qemu-storage-daemon (QEMU 7.2 on Debian 12), one daemon for
 * the class. Each test connects and closes its own client: a QMP socket serves one client at a time.
 */
final class QmpClientQsdTest {

    private static final int MIB = 1 << 20;
    private static final long DISK = 64L * MIB;
    private static final UUID DATASTORE = UUID.fromString("3f2b8c1e-0d4a-4b6f-9e21-5a7c9d0b1e22");

    @TempDir
    static Path dir;

    private static QemuStorageDaemon qsd;

    @BeforeAll
    static void start() throws Exception {
        qsd = QemuStorageDaemon.start(dir, DISK);
    }

    @AfterAll
    static void stop() throws Exception {
        if (qsd != null) {
            qsd.close();
        }
    }

    private static QmpClient connect() throws QmpException {
        return QmpClient.connect(qsd.qmpSocket);
    }

    @Test
    void greetingCapabilitiesAndACommand() throws Exception {
        try (QmpClient qmp = connect()) {
            assertThat(qmp.greeting().path("version").path("qemu").path("major").asInt()).isGreaterThanOrEqualTo(7);
            assertThat(qmp.qemuVersion()).matches("\\d+\\.\\d+\\.\\d+");
            assertThat(qmp.execute("query-version").path("qemu").path("major").asInt())
                    .isEqualTo(qmp.greeting().path("version").path("qemu").path("major").asInt());
            assertThat(qmp.execute("query-block-jobs").isArray()).isTrue();
            assertThat(qmp.isOpen()).isTrue();
        }
    }

    @Test
    void aSecondClientGetsQmpSocketBusyWithinAboutFiveSeconds() throws Exception {
        try (QmpClient first = connect()) {
            long t0 = System.nanoTime();
            assertThatThrownBy(QmpClientQsdTest::connect).isInstanceOf(QmpBusyException.class)
                    .hasMessageContaining("QMP socket busy").hasMessageContaining(qsd.qmpSocket.toString());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(ms).isBetween(4_900L, 8_000L);
            assertThat(first.execute("query-version").has("qemu")).as("the first client is unaffected").isTrue();
        }
        try (QmpClient again = connect()) {
            assertThat(again.execute("query-version").has("qemu")).as("free again once the first closed").isTrue();
        }
    }

    @Test
    void resolvesADriveByNodeNameOnQemuStorageDaemon() throws Exception {
        try (QmpClient qmp = connect()) {
            QmpBlock block = new QmpBlock(qmp);
            assertThat(block.queryBlock()).as("qemu-storage-daemon has no devices").isEmpty();
            List<BlockNode> nodes = block.queryNamedBlockNodes(true);
            assertThat(nodes).extracting(BlockNode::nodeName).contains(NODE, QemuStorageDaemon.FILE_NODE);
            ResolvedDrive d = block.resolveDrive(NODE);
            assertThat(d).isEqualTo(new ResolvedDrive(NODE, NODE, ResolvedDrive.Via.NODE, "qcow2", DISK));
            assertThatThrownBy(() -> block.resolveDrive("vdz")).isInstanceOf(QmpException.class)
                    .hasMessageContaining("no device or node named 'vdz'").hasMessageContaining(NODE);
        }
    }

    @Test
    void persistentCheckpointsInTransactions() throws Exception {
        String key = CheckpointName.groupKey("", "vm", "101");
        try (QmpClient qmp = connect()) {
            QmpBlock block = new QmpBlock(qmp);
            CheckpointName c1 = CheckpointName.next(names(block.bitmaps(NODE)), DATASTORE, key);
            assertThat(c1.seq()).isEqualTo(1);
            block.transaction(new Transaction().addBitmap(NODE, c1.name(), true, false, 0));
            DirtyBitmap b1 = byName(block.bitmaps(NODE)).get(c1.name());
            assertThat(b1).isEqualTo(new DirtyBitmap(c1.name(), 65536, 0, true, true, false, false));

            // the next checkpoint: add the new one and disable the previous one at the same instant
            CheckpointName c2 = CheckpointName.next(names(block.bitmaps(NODE)), DATASTORE, key);
            assertThat(c2.seq()).isEqualTo(2);
            block.transaction(new Transaction().addBitmap(NODE, c2.name(), true, false, 0)
                    .disableBitmap(NODE, c1.name()));
            Map<String, DirtyBitmap> now = byName(block.bitmaps(NODE));
            assertThat(now.get(c1.name()).recording()).isFalse();
            assertThat(now.get(c2.name()).recording()).isTrue();
            assertThat(CheckpointName.chain(now.keySet(), DATASTORE, key)).containsExactly(c1, c2);

            // a backup's temporary bitmap: disabled, not persistent, same granularity, merge of the chain
            String tmp = "coffer-tmp-test";
            block.transaction(new Transaction().addBitmap(NODE, tmp, false, true, 65536)
                    .mergeBitmaps(NODE, tmp, List.of(BitmapRef.named(c1.name()), BitmapRef.named(c2.name()))));
            DirtyBitmap t = byName(block.bitmaps(NODE)).get(tmp);
            assertThat(t.persistent()).isFalse();
            assertThat(t.recording()).isFalse();
            assertThat(t.granularity()).isEqualTo(65536);

            // the single-command forms too
            block.addBitmap(NODE, "coffer-tmp-2", false, true, 65536);
            block.mergeBitmaps(NODE, "coffer-tmp-2", List.of(BitmapRef.on(NODE, tmp)));
            block.removeBitmap(NODE, "coffer-tmp-2");

            block.transaction(new Transaction().removeBitmap(NODE, tmp).removeBitmap(NODE, c2.name())
                    .removeBitmap(NODE, c1.name()));
            assertThat(block.bitmaps(NODE)).isEmpty();
        }
    }

    @Test
    void anErrorReplyNamesTheCommandAndQemusDescription() throws Exception {
        try (QmpClient qmp = connect()) {
            QmpBlock block = new QmpBlock(qmp);
            assertThatThrownBy(() -> block.addBitmap("no-such-node", "x", true, false, 0))
                    .isInstanceOfSatisfying(QmpException.class, e -> {
                        assertThat(e.command()).isEqualTo("block-dirty-bitmap-add");
                        assertThat(e.errorClass()).isEqualTo("GenericError");
                        assertThat(e.desc()).contains("no-such-node");
                        assertThat(e.getMessage()).contains("block-dirty-bitmap-add").contains(e.desc());
                    });
            assertThatThrownBy(() -> qmp.execute("no-such-command")).isInstanceOfSatisfying(QmpException.class,
                    e -> assertThat(e.errorClass()).isEqualTo("CommandNotFound"));
            // a failed transaction changes nothing
            assertThatThrownBy(() -> block.transaction(new Transaction().addBitmap(NODE, "coffer-atomic", true, false, 0)
                    .disableBitmap(NODE, "no-such-bitmap"))).isInstanceOf(QmpException.class);
            assertThat(names(block.bitmaps(NODE))).doesNotContain("coffer-atomic");
            assertThat(qmp.execute("query-version").has("qemu")).as("the connection survives errors").isTrue();
        }
    }

    @Test
    void exportsANodeWithABitmapThatRecordedWritesAndTearsItDown() throws Exception {
        Path nbdSocket = dir.resolve("nbd-private.sock");
        String bm = "coffer-nbd-test";
        try (QmpClient qmp = connect()) {
            QmpBlock block = new QmpBlock(qmp);
            assertThat(block.startNbdServerUnix(nbdSocket)).isTrue();
            assertThat(block.startNbdServerUnix(dir.resolve("other.sock"))).as("QEMU runs at most one").isFalse();
            block.addBitmap(NODE, bm, true, false, 0);
            block.addNbdExport("exp-rw", NODE, "rw", true, List.of());

            byte[] data = new byte[64 * 1024];
            Arrays.fill(data, (byte) 0x5a);
            try (NbdClient rw = NbdClient.connect(NbdUri.unix(nbdSocket, "rw"))) {
                rw.write(MIB, data, 0, data.length);                  // one 64 KiB cluster
                rw.write(5L * MIB + 4096, data, 0, 4096);              // 4 KiB inside another cluster
                rw.flush();
            }
            assertThat(byName(block.bitmaps(NODE)).get(bm).count()).isEqualTo(2 * 65536);

            // a read-only export needs a disabled bitmap
            assertThatThrownBy(() -> block.addNbdExport("exp-ro", NODE, "ro", false, List.of(BitmapRef.named(bm))))
                    .isInstanceOf(QmpException.class).hasMessageContaining("incompatible with readonly export");
            block.transaction(new Transaction().disableBitmap(NODE, bm));
            block.addNbdExport("exp-ro", NODE, "ro", false, List.of(BitmapRef.named(bm)));
            assertThat(block.queryBlockExports()).extracting(BlockExport::id).containsExactlyInAnyOrder("exp-rw", "exp-ro");

            NbdClientOptions opts = NbdClientOptions.defaults().withDirtyBitmap(bm);
            try (NbdClient ro = NbdClient.connect(NbdUri.unix(nbdSocket, "ro"), opts)) {
                assertThat(ro.info().size()).isEqualTo(DISK);
                BlockStatus st = ro.blockStatus(0, DISK);
                List<long[]> dirty = st.of(BlockStatus.DIRTY_BITMAP_PREFIX + bm).stream()
                        .filter(e -> e.has(BlockStatus.DIRTY)).map(e -> new long[] {e.offset(), e.length()}).toList();
                assertThat(dirty).containsExactly(new long[] {MIB, 65536}, new long[] {5L * MIB, 65536});
                byte[] back = new byte[data.length];
                ro.read(MIB, back, 0, back.length);
                assertThat(back).isEqualTo(data);
                assertThat(st.of(BlockStatus.DIRTY_BITMAP_PREFIX + bm).stream().mapToLong(Extent::length).sum())
                        .isEqualTo(DISK);
            }

            block.deleteExport("exp-ro", true);
            block.deleteExport("exp-rw", true);
            block.awaitExportGone("exp-ro", Duration.ofSeconds(10));
            block.awaitExportGone("exp-rw", Duration.ofSeconds(10));
            block.stopNbdServer();
            assertThat(block.queryBlockExports()).isEmpty();
            assertThat(block.startNbdServerUnix(nbdSocket)).as("stopped: a new server may start").isTrue();
            block.stopNbdServer();
            block.removeBitmap(NODE, bm);
        }
    }

    @Test
    void backupJobSyncNoneReportsItsCancellationAsEvents() throws Exception {
        Path scratch = dir.resolve("scratch.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", scratch.toString(), Long.toString(DISK));
        try (QmpClient qmp = connect()) {
            QmpBlock block = new QmpBlock(qmp);
            List<QmpEvent> seen = new CopyOnWriteArrayList<>();
            qmp.addEventListener(seen::add);
            ObjectNode node = qmp.args();
            node.put("driver", "qcow2");
            node.put("node-name", "scratch0");
            node.putObject("file").put("driver", "file").put("filename", scratch.toString());
            node.put("backing", NODE);
            block.blockdevAdd(node);

            block.blockdevBackupSyncNone("job0", NODE, "scratch0", "cbw-job0");
            assertThat(block.queryBlockJobs()).singleElement().satisfies(j -> {
                assertThat(j.id()).isEqualTo("job0");
                assertThat(j.type()).isEqualTo("backup");
            });
            assertThat(block.bitmaps(NODE)).as("the job's internal bitmap is unnamed").anyMatch(b -> b.name() == null);
            assertThat(block.node(NODE).orElseThrow().namedBitmaps()).isEmpty();

            block.jobCancel("job0");
            QmpEvent cancelled = qmp.awaitEvent(e -> e.name().equals("BLOCK_JOB_CANCELLED"), Duration.ofSeconds(10));
            assertThat(cancelled).isNotNull();
            assertThat(cancelled.jobId()).isEqualTo("job0");
            assertThat(cancelled.text("type")).isEqualTo("backup");
            block.awaitJobGone("job0", Duration.ofSeconds(10));
            assertThat(seen).filteredOn(e -> e.name().equals("JOB_STATUS_CHANGE")).extracting(e -> e.text("status"))
                    .contains("running", "aborting", "concluded", "null");
            assertThat(seen).extracting(QmpEvent::name).contains("BLOCK_JOB_CANCELLED");
            block.blockdevDel("scratch0");
            assertThat(block.node("scratch0")).isEmpty();
            assertThat(block.node("cbw-job0")).isEmpty();
        }
        Files.deleteIfExists(scratch);
    }

    @Test
    void closeFailsLaterCommandsAndFreesTheSocket() throws Exception {
        QmpClient qmp = connect();
        qmp.close();
        qmp.close();
        assertThat(qmp.isOpen()).isFalse();
        assertThatThrownBy(() -> qmp.execute("query-version")).isInstanceOf(QmpException.class)
                .hasMessageContaining("closed");
        try (QmpClient next = connect()) {
            assertThat(next.isOpen()).isTrue();
        }
    }

    private static List<String> names(List<DirtyBitmap> bitmaps) {
        return bitmaps.stream().map(DirtyBitmap::name).filter(n -> n != null).toList();
    }

    private static Map<String, DirtyBitmap> byName(List<DirtyBitmap> bitmaps) {
        return bitmaps.stream().filter(b -> b.name() != null)
                .collect(Collectors.toMap(DirtyBitmap::name, Function.identity()));
    }
}
