package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static dev.coffer.e2e.CofferProcess.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import dev.coffer.agent.qmp.BlockJob;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.datastore.Datastore;
import dev.coffer.store.datastore.DatastoreOptions;
import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coffer backup --source qmp:PATH --drive NAME} end to end: real {@code coffer server},
 * {@code coffer backup} and {@code coffer restore} processes against a real qemu-storage-daemon
 * whose drives the "guest" writes through a writable NBD export. Every restore is compared by
 * checksum with the drive's content at the time of its backup. One daemon for the class, restarted
 * (cleanly and by SIGKILL) where a test needs it; each test backs up its own group, so checkpoint
 * chains never meet.
 */
final class QmpBackupIT {

    private static final int MIB = 1 << 20;
    private static final long SMALL = 64L * MIB;
    private static final long BIG = 192L * MIB;
    private static final long SLOW = 64L * MIB;

    @TempDir
    static Path work;
    static CofferProcess.Server server;
    static Map<String, String> admin;
    static Qsd qsd;

    @BeforeAll
    static void start() throws Exception {
        server = CofferProcess.server(work, "--datastore", work.resolve("ds").toString(), "--chunk-size", Integer.toString(MIB),
                "--session-lease", "5");
        admin = server.env(server.start.get("token").asText());
        qsd = new Qsd(Files.createDirectories(work.resolve("vm")));
        qsd.create("disk0", SMALL);
        qsd.create("disk1", SMALL);
        qsd.create("big", BIG);
        qsd.create("heal", SMALL);
        qsd.createThrottled("slow", SLOW, 8_000_000); // reading it whole takes about 8 s
        qsd.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (qsd != null) {
            qsd.stop();
        }
        server.close();
    }

    private static String[] backup(String group, String... drives) {
        List<String> a = new ArrayList<>(List.of("backup", group, "--source", "qmp:" + qsd.qmp, "--scratch",
                qsd.dir.toString(), "--nbd-socket", qsd.live.toString(), "--json"));
        for (String d : drives) {
            a.add("--drive");
            a.add(d);
        }
        return a.toArray(String[]::new);
    }

    private static JsonNode disk(JsonNode result, String name) {
        for (JsonNode d : result.get("disks")) {
            if (d.get("name").asText().equals(name)) {
                return d;
            }
        }
        throw new AssertionError("no disk " + name + " in " + result);
    }

    /** Bytes read outside the clean sample: the dirty chunks. */
    private static long dirtyRead(JsonNode disk) {
        return disk.get("read_bytes").asLong() - disk.get("sampled_bytes").asLong();
    }

    private static void assertRestores(JsonNode result, String drive, String expectedSha) throws Exception {
        Path out = work.resolve("restore-" + drive + "-" + System.nanoTime() + ".raw");
        ok(admin, "restore", result.get("snapshot").asText(), "--disk", drive, "--to", "file:" + out);
        assertThat(Images.sha256(out)).as("restore of %s from %s", drive, result.get("snapshot").asText()).isEqualTo(expectedSha);
        Files.delete(out);
    }

    private static List<String> scratchLeftovers() throws IOException {
        try (Stream<Path> s = Files.list(qsd.dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("cofferx-")).toList();
        }
    }

    @Test
    void incrementalForeverAcrossACleanRestartAndACrash() throws Exception {
        qsd.write("disk0", 0, 4 * MIB, 0x11);
        qsd.write("disk1", 8 * MIB, 2 * MIB, 0x21);
        qsd.write("disk0", 40L * MIB, MIB, 0x12);
        String sha0 = qsd.sha256("disk0");
        String sha1 = qsd.sha256("disk1");
        JsonNode full = ok(admin, backup("vm/1", "disk0", "disk1")).json();
        assertThat(disk(full, "disk0").get("mode").asText()).isEqualTo("full");
        assertThat(disk(full, "disk0").get("reason").asText()).isEqualTo("no-base");
        assertThat(full.get("guest_paused_s").asDouble()).as("a fleecing job never pauses the guest").isZero();
        assertThat(dirtyRead(disk(full, "disk0"))).as("only allocated chunks are read").isEqualTo(5L * MIB);
        assertRestores(full, "disk0", sha0);
        assertRestores(full, "disk1", sha1);
        assertThat(scratchLeftovers()).isEmpty();

        qsd.write("disk0", 10L * MIB + 4096, 64 * 1024, 0x13);
        String sha0b = qsd.sha256("disk0");
        JsonNode inc = ok(admin, backup("vm/1", "disk0", "disk1")).json();
        assertThat(disk(inc, "disk0").get("mode").asText()).isEqualTo("incremental");
        assertThat(disk(inc, "disk0").get("reason").isNull()).isTrue();
        assertThat(dirtyRead(disk(inc, "disk0"))).as("one dirty chunk read").isEqualTo(MIB);
        assertThat(dirtyRead(disk(inc, "disk1"))).as("nothing written to disk1").isZero();
        assertRestores(inc, "disk0", sha0b);
        assertRestores(inc, "disk1", sha1);

        qsd.stop(); // QMP quit: persistent bitmaps are written into the qcow2
        qsd.start();
        qsd.write("disk1", 30L * MIB, 4096, 0x22);
        String sha1c = qsd.sha256("disk1");
        JsonNode afterRestart = ok(admin, backup("vm/1", "disk0", "disk1")).json();
        assertThat(disk(afterRestart, "disk1").get("mode").asText()).as("bitmaps survive a clean restart").isEqualTo("incremental");
        assertThat(dirtyRead(disk(afterRestart, "disk1"))).isEqualTo(MIB);
        assertRestores(afterRestart, "disk1", sha1c);

        qsd.kill(); // SIGKILL: the bitmaps come back inconsistent
        qsd.start();
        qsd.write("disk0", 50L * MIB, 4096, 0x14);
        String sha0d = qsd.sha256("disk0");
        Run crashed = run(admin, backup("vm/1", "disk0", "disk1"));
        assertThat(crashed.code()).as(crashed.err()).isZero();
        JsonNode afterCrash = crashed.json();
        assertThat(disk(afterCrash, "disk0").get("mode").asText()).isEqualTo("diff");
        assertThat(disk(afterCrash, "disk0").get("reason").asText()).isEqualTo("bitmap-inconsistent");
        assertThat(disk(afterCrash, "disk0").get("read_bytes").asLong()).as("every allocated chunk read").isEqualTo(7L * MIB);
        assertRestores(afterCrash, "disk0", sha0d);

        qsd.write("disk0", 0, 4096, 0x15);
        String sha0e = qsd.sha256("disk0");
        JsonNode healed = ok(admin, backup("vm/1", "disk0", "disk1")).json();
        assertThat(disk(healed, "disk0").get("mode").asText()).as("a new chain after the crash").isEqualTo("incremental");
        assertThat(dirtyRead(disk(healed, "disk0"))).isEqualTo(MIB);
        assertRestores(healed, "disk0", sha0e);
        assertThat(scratchLeftovers()).isEmpty();
    }

    /**
     * Rule 6 from the agent's side: a chunk the store has flagged bad is read and uploaded by the
     * next incremental even though the bitmap calls it clean, and the upload heals it. The flag is
     * set the way verify sets it (blob moved aside as {@code *.bad}, digest listed) with the server
     * stopped; the base's own verify state stays "none", as when the bad chunk was found through
     * another restore point sharing it, so the base's checkpoint is still trusted.
     */
    @Test
    void aChunkTheStoreFoundBadIsReadAndUploadedAgainThoughTheBitmapCallsItClean() throws Exception {
        Path ds = work.resolve("ds-heal");
        String[] serverArgs = {"--datastore", ds.toString(), "--chunk-size", Integer.toString(MIB)};
        for (int c = 0; c < 3; c++) {
            qsd.write("heal", (long) c * MIB, MIB, 0x41 + c); // three different chunks
        }
        String token;
        SnapshotId first;
        try (CofferProcess.Server s = CofferProcess.server(work, serverArgs)) {
            token = s.start.get("token").asText();
            JsonNode full = ok(s.env(token), backup("vm/6", "heal")).json();
            assertThat(disk(full, "heal").get("uploaded_chunks").asLong()).isEqualTo(3);
            first = SnapshotId.parsePath(full.get("snapshot").asText());
        }
        Digest victim;
        Path blob;
        try (Datastore d = Datastore.open("heal", ds, new DatastoreOptions(MIB, DatastoreOptions.DEFAULT.dedupScope(),
                DatastoreOptions.DEFAULT.syncLevel(), DatastoreOptions.DEFAULT.blockCacheBytes()))) {
            try (FixedIndexReader r = FixedIndexReader.open(d.snapshotDir(first).resolve("heal.fidx"))) {
                victim = r.digest(1);
            }
            blob = ds.resolve("chunks").resolve(victim.hex().substring(0, 4)).resolve(victim.hex());
            assertThat(blob).exists();
            assertThat(d.inserter().markBad(victim)).isTrue();
        }
        assertThat(blob).doesNotExist();
        assertThat(blob.resolveSibling(victim.hex() + ".bad")).exists();

        qsd.write("heal", 2L * MIB + 4096, 4096, 0x42);
        String sha = qsd.sha256("heal");
        try (CofferProcess.Server s = CofferProcess.server(work, serverArgs)) {
            Map<String, String> env = s.env(token);
            JsonNode inc = ok(env, backup("vm/6", "heal")).json();
            JsonNode d = disk(inc, "heal");
            assertThat(d.get("mode").asText()).as("a bad chunk elsewhere does not distrust the checkpoint").isEqualTo("incremental");
            assertThat(dirtyRead(d)).as("the dirty chunk and the bad one, nothing else").isEqualTo(2L * MIB);
            assertThat(d.get("uploaded_chunks").asLong()).isEqualTo(2);
            assertThat(blob).as("the upload put the chunk back").exists();
            Path out = work.resolve("heal.raw");
            ok(env, "restore", inc.get("snapshot").asText(), "--disk", "heal", "--to", "file:" + out);
            assertThat(Images.sha256(out)).isEqualTo(sha);
            Files.delete(out);

            JsonNode again = ok(env, backup("vm/6", "heal")).json();
            assertThat(dirtyRead(disk(again, "heal"))).as("healed: no longer flagged, so no longer read").isZero();
            assertThat(disk(again, "heal").get("uploaded_chunks").asLong()).isZero();
        }
    }

    private record Run(int code, String out, String err) {
        JsonNode json() throws IOException {
            return CofferProcess.JSON.readTree(out);
        }
    }

    private static Run run(Map<String, String> env, String... args) throws Exception {
        CofferProcess.Run r = CofferProcess.run(env, args);
        return new Run(r.code(), r.out(), r.err());
    }

    @Test
    void twoStoresBackingUpTheSameVmAlternatelyNeverUseEachOthersCheckpoints() throws Exception {
        try (CofferProcess.Server other = CofferProcess.server(work, "--datastore", work.resolve("ds-b").toString(),
                "--chunk-size", Integer.toString(MIB))) {
            Map<String, String> b = other.env(other.start.get("token").asText());
            qsd.write("disk1", 0, MIB, 0x31);
            assertThat(disk(ok(admin, backup("vm/2", "disk1")).json(), "disk1").get("mode").asText()).isEqualTo("full");
            assertThat(disk(ok(b, backup("vm/2", "disk1")).json(), "disk1").get("mode").asText()).isEqualTo("full");

            qsd.write("disk1", 20L * MIB, 4096, 0x32);
            JsonNode a2 = ok(admin, backup("vm/2", "disk1")).json();
            assertThat(disk(a2, "disk1").get("mode").asText()).isEqualTo("incremental");
            assertThat(dirtyRead(disk(a2, "disk1"))).isEqualTo(MIB);

            qsd.write("disk1", 25L * MIB, 4096, 0x33);
            String sha = qsd.sha256("disk1");
            JsonNode b2 = ok(b, backup("vm/2", "disk1")).json();
            assertThat(disk(b2, "disk1").get("mode").asText()).isEqualTo("incremental");
            assertThat(dirtyRead(disk(b2, "disk1"))).as("store B sees both writes since its own checkpoint").isEqualTo(2L * MIB);
            Path out = work.resolve("b2.raw");
            ok(b, "restore", b2.get("snapshot").asText(), "--disk", "disk1", "--to", "file:" + out);
            assertThat(Images.sha256(out)).isEqualTo(sha);

            JsonNode a3 = ok(admin, backup("vm/2", "disk1")).json();
            assertThat(dirtyRead(disk(a3, "disk1"))).as("store A sees only the write after its own checkpoint").isEqualTo(MIB);
            assertRestores(a3, "disk1", sha);
        }
    }

    @Test
    void anAgentKilledMidBackupLeavesStateTheNextRunRemoves() throws Exception {
        qsd.fillRandom("slow", SLOW, work.resolve("random.raw")); // throttled: the backup reads for ~8 s
        String sha = qsd.sha256("slow");
        Path out = work.resolve("killed.out");
        Path err = work.resolve("killed.err");
        Process p = CofferProcess.start(admin, out, err, backup("vm/3", "slow"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (scratchLeftovers().stream().noneMatch(n -> n.endsWith(".qcow2")) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(p.isAlive()).as("the backup is still running once its scratch exists: %s", Files.readString(err)).isTrue();
        Thread.sleep(200);
        p.destroyForcibly(); // SIGKILL: no teardown
        p.waitFor(30, TimeUnit.SECONDS);
        assertThat(scratchLeftovers()).as("the killed run left its scratch").isNotEmpty();

        Run next = null;
        StringBuilder errs = new StringBuilder();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            next = run(admin, backup("vm/3", "slow"));
            errs.append(next.err());
            if (next.code() == 0 || !next.err().contains("being backed up")) {
                break;
            }
            Thread.sleep(1000); // the killed run's session holds the group until its 5 s lease runs out
        }
        assertThat(next.code()).as(next.err()).isZero();
        assertThat(errs).as("the first run after the kill removes its state").contains("removed stale state of an earlier run");
        assertThat(scratchLeftovers()).isEmpty();
        JsonNode r = next.json();
        assertThat(disk(r, "slow").get("mode").asText()).as("the killed run published nothing").isEqualTo("full");
        assertRestores(r, "slow", sha);
    }

    /** Waits (on the second monitor) until a backup's fleecing job runs: the freeze instant has passed. */
    private static String awaitFleecingJob(Process backup, Path err) throws Exception {
        try (QmpClient c = QmpClient.connect(qsd.qmp2)) {
            QmpBlock q = new QmpBlock(c);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                for (BlockJob j : q.queryBlockJobs()) {
                    if (j.id().startsWith("cofferx-")) {
                        return j.id();
                    }
                }
                assertThat(backup.isAlive()).as("backup still running: %s", Files.readString(err)).isTrue();
                Thread.sleep(5);
            }
        }
        throw new AssertionError("no fleecing job appeared");
    }

    @Test
    void aGuestWriteDuringTheBackupDoesNotLeakIntoTheRestorePoint() throws Exception {
        qsd.fillRandom("big", BIG, work.resolve("random-pit.raw"));
        String before = qsd.sha256("big");
        Path out = work.resolve("pit.out");
        Path err = work.resolve("pit.err");
        Process p = CofferProcess.start(admin, out, err, backup("vm/4", "big"));
        awaitFleecingJob(p, err);
        qsd.write("big", BIG - 8L * MIB, 8 * MIB, 0x5a); // the end of the disk, which the backup reads last
        qsd.write("big", 0, MIB, 0x5b);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(err)).isZero();
        JsonNode r = CofferProcess.JSON.readTree(Files.readString(out));
        assertThat(qsd.sha256("big")).as("the guest's writes went through").isNotEqualTo(before);
        assertRestores(r, "big", before);
        assertThat(scratchLeftovers()).isEmpty();
    }

    @Test
    void aFleecingJobThatDiesFailsTheBackupAndTheNextMergesOverItsCheckpoint() throws Exception {
        qsd.write("slow", 0, MIB, 0x61);
        JsonNode first = ok(admin, backup("vm/5", "slow")).json();
        qsd.fillRandom("slow", SLOW, work.resolve("random-dies.raw")); // X: every chunk dirty; reading them takes ~8 s (throttled)
        Path out = work.resolve("dies.out");
        Path err = work.resolve("dies.err");
        Process p = CofferProcess.start(admin, out, err, backup("vm/5", "slow"));
        String job = awaitFleecingJob(p, err);
        try (QmpClient c = QmpClient.connect(qsd.qmp2)) {
            new QmpBlock(c).jobCancel(job); // the view is no longer frozen
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(Files.readString(err)).contains("no longer frozen").contains(job);
        JsonNode list = ok(admin, "snapshots", "vm/5", "--json").json();
        assertThat(list).as("nothing published").hasSize(1);
        assertThat(list.get(0).get("snapshot").asText()).isEqualTo(first.get("snapshot").asText());
        assertThat(scratchLeftovers()).isEmpty();

        qsd.write("slow", 40L * MIB, 4096, 0x62); // Y, after the failed backup's checkpoint
        String sha = qsd.sha256("slow");
        JsonNode next = ok(admin, backup("vm/5", "slow")).json();
        assertThat(disk(next, "slow").get("mode").asText()).isEqualTo("incremental");
        assertThat(dirtyRead(disk(next, "slow"))).as("X and Y: the merge spans the failed backup's checkpoint").isEqualTo(SLOW);
        assertRestores(next, "slow", sha);
    }

    @Test
    void aDroppedNbdConnectionFailsTheBackupCleanlyAndTheChainStaysUsable() throws Exception {
        qsd.write("slow", 0, MIB, 0x71);
        ok(admin, backup("vm/6", "slow"));
        qsd.fillRandom("slow", SLOW, work.resolve("random-drop.raw"));
        Path out = work.resolve("drop.out");
        Path err = work.resolve("drop.err");
        Process p = CofferProcess.start(admin, out, err, backup("vm/6", "slow"));
        awaitFleecingJob(p, err);
        try (QmpClient c = QmpClient.connect(qsd.qmp2)) {
            QmpBlock q = new QmpBlock(c);
            String export = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (export == null && System.nanoTime() < deadline) { // the export follows the freeze
                export = q.queryBlockExports().stream().map(e -> e.id()).filter(id -> id.startsWith("cofferx-")).findFirst()
                        .orElse(null);
                Thread.sleep(5);
            }
            assertThat(export).as("the backup's export appeared").isNotNull();
            q.deleteExport(export, true); // QEMU drops the NBD connection under the backup
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(Files.readString(err)).as("names the export and what failed").contains("coffer backup:").contains("cofferx-");
        assertThat(ok(admin, "snapshots", "vm/6", "--json").json()).as("nothing published").hasSize(1);
        assertThat(scratchLeftovers()).isEmpty();

        String sha = qsd.sha256("slow");
        JsonNode next = ok(admin, backup("vm/6", "slow")).json();
        assertThat(disk(next, "slow").get("mode").asText()).isEqualTo("incremental");
        assertThat(dirtyRead(disk(next, "slow"))).isEqualTo(SLOW);
        assertRestores(next, "slow", sha);
    }
}
