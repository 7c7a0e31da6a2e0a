package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coffer.agent.restore.LiveRestore;
import dev.coffer.e2e.CofferProcess.Run;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.StoreEndpoint;
import io.vertx.core.http.HttpMethod;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coffer restore --live} against a real store process and a real qemu-storage-daemon (one
 * for the class, standing in for the VM's QEMU): the new qcow2 runs at once with the restore point
 * as its NBD backing file while {@code block-stream} copies the rest, the "guest" writes through a
 * writable NBD export of the image's node during the copy, and at the end the image is complete,
 * holds the guest's writes, and has no backing file. Also: the live restore killed mid-stream and
 * rerun, the store killed mid-stream (the job fails, the image stays usable, a rerun finishes), and
 * QEMU killed mid-stream (coffer fails and stops serving, the image stays a valid qcow2 with its
 * backing, and a new QEMU on it plus a rerun finish; that test replaces the class's QEMU).
 */
final class LiveRestoreIT {

    private static final int CS = 64 * 1024;
    private static final long SIZE = 64L << 20;
    /** Bytes of zero chunks in the image: the gap at 40..56 MiB. */
    private static final long ZERO = 16L << 20;

    @TempDir
    static Path work;
    static Path ds;
    static CofferProcess.Server server;
    static String adminToken;
    static Path image;
    static byte[] original;
    static QemuDaemon qemu;

    @BeforeAll
    static void start() throws Exception {
        ds = work.resolve("ds");
        server = CofferProcess.server(work, "--datastore", ds.toString(), "--chunk-size", Integer.toString(CS));
        adminToken = server.start.get("token").asText();
        // random data with a zero gap (40..56 MiB) the backup stores as zero chunks
        image = Images.sparse(work.resolve("disk.img"), SIZE, 11, 0, 40 << 20, 56L << 20, 8 << 20);
        original = Files.readAllBytes(image);
        qemu = QemuDaemon.start(work.resolve("qemu"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (qemu != null) {
            qemu.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void shouldRunTheImageAtOnceStreamTheRestKeepGuestWritesAndDropTheBacking() throws Exception {
        String snapshot = backup("vm/1");
        Path live = work.resolve("live1.qcow2");
        Process restore = liveRestore("r1", snapshot, live, "--rate", "8M");
        awaitImage(restore, live, "r1");
        qemu.attach("vda1", live);

        // the guest writes while the job runs: one unaligned write near the start, one near the end
        awaitOffset("coffer-live-vda1", 1 << 20, restore, "r1");
        byte[] expected = original.clone();
        guestWrite("vda1", (1 << 20) + 512, 65536 + 1000, 0x5a, expected);
        guestWrite("vda1", 60L << 20, 128 * 1024, 0xa5, expected);
        assertThat(qemu.job("coffer-live-vda1")).as("the writes happened during the stream").isNotNull();

        assertThat(restore.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(restore.exitValue()).as(Files.readString(work.resolve("r1.err"))).isZero();
        JsonNode result = CofferProcess.JSON.readTree(Files.readString(work.resolve("r1.out")));
        assertThat(result.get("snapshot").asText()).isEqualTo(snapshot);
        assertThat(result.get("disks").get(0).get("node").asText()).isEqualTo("vda1");
        JsonNode disk = result.get("disks").get(0);
        assertThat(disk.get("stream_jobs").asInt()).isEqualTo(1);
        assertThat(disk.get("zero_bytes").asLong()).as("the zero gap").isEqualTo(ZERO);
        // each byte of data came over NBD once, except what the guest wrote before the stream got there: the
        // 128 KiB at 60 MiB (far ahead of the stream), and perhaps the write at 1 MiB (its clusters' rest is copied)
        long data = SIZE - ZERO;
        assertThat(disk.get("written_bytes").asLong()).isBetween(data - (128 << 10) - (65536 + 1000), data - (128 << 10));

        assertThat(qemu.node("vda1").get("backing_file")).as("QEMU dropped the backing link").isNull();
        assertThat(Files.exists(LiveRestore.defaultSocket(live))).as("coffer stopped serving").isFalse();
        assertThat(sha256(exportContent("vda1"))).as("what the running image reads").isEqualTo(sha256(expected));
        qemu.detach("vda1");
        assertStandsAlone(live, expected);
        Run again = CofferProcess.run(env(), "restore", snapshot, "--live", "--to", "file:" + live, "--qmp", qemu.qmpSocket.toString());
        assertThat(again.code()).as("a finished image is left alone").isNotZero();
        assertThat(again.err()).contains("has no backing file");
        // the reader lease is gone: the restore point can be deleted now
        deleteSnapshot(snapshot);
    }

    @Test
    void shouldFinishWhenRerunAfterBeingKilledMidStream() throws Exception {
        String snapshot = backup("vm/2");
        Path live = work.resolve("live2.qcow2");
        Process first = liveRestore("r2a", snapshot, live, "--rate", "8M");
        awaitImage(first, live, "r2a");
        qemu.attach("vda2", live);
        awaitOffset("coffer-live-vda2", 8 << 20, first, "r2a");
        first.destroyForcibly(); // SIGKILL: no cleanup at all
        first.waitFor(30, TimeUnit.SECONDS);

        // blocks already copied read from the image itself; QEMU waits for the backing to come back
        assertThat(tool("qemu-io", "-f", "raw", "-c", "read 0 65536", qemu.uri("vda2"))).contains("read 65536/65536");
        assertThat(qemu.node("vda2").get("backing_file")).isNotNull();

        Process second = liveRestore("r2b", snapshot, live);
        assertThat(second.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).as(Files.readString(work.resolve("r2b.err"))).isZero();
        JsonNode result = CofferProcess.JSON.readTree(Files.readString(work.resolve("r2b.out")));
        assertThat(result.get("disks").get(0).get("stream_jobs").asInt())
                .as("the rerun followed the job QEMU kept waiting for its backing; %s", Files.readString(work.resolve("r2b.err")))
                .isZero();
        assertThat(qemu.node("vda2").get("backing_file")).isNull();
        assertThat(sha256(exportContent("vda2"))).isEqualTo(sha256(original));
        qemu.detach("vda2");
        assertStandsAlone(live, original);
    }

    @Test
    void shouldFailTheJobWhenTheStoreDiesKeepTheImageUsableAndFinishOnRerun() throws Exception {
        String snapshot = backup("vm/3");
        Path live = work.resolve("live3.qcow2");
        Process first = liveRestore("r3a", snapshot, live, "--rate", "8M", "--retry-for", "3");
        awaitImage(first, live, "r3a");
        qemu.attach("vda3", live);
        awaitOffset("coffer-live-vda3", 4 << 20, first, "r3a");
        server.kill();

        assertThat(first.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(work.resolve("r3a.err"));
        assertThat(first.exitValue()).as(err).isEqualTo(1);
        assertThat(err).contains("run the same live restore again");
        assertThat(qemu.job("coffer-live-vda3")).as("the job failed").isNull();
        assertThat(qemu.node("vda3").get("backing_file")).as("the image keeps its backing").isNotNull();
        assertThat(tool("qemu-io", "-f", "raw", "-c", "read 0 65536", qemu.uri("vda3"))).contains("read 65536/65536");

        server = CofferProcess.server(work, "--datastore", ds.toString(), "--chunk-size", Integer.toString(CS));
        Process second = liveRestore("r3b", snapshot, live);
        assertThat(second.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).as(Files.readString(work.resolve("r3b.err"))).isZero();
        assertThat(qemu.node("vda3").get("backing_file")).isNull();
        assertThat(sha256(exportContent("vda3"))).isEqualTo(sha256(original));
        qemu.detach("vda3");
        assertStandsAlone(live, original);
    }

    @Test
    void shouldReleaseTheLeaseOnSigtermAndRefuseToFinishFromAnotherRestorePoint() throws Exception {
        String snapshot = backup("vm/4");
        String other = backup("vm/5"); // the same disk content, another restore point
        Path live = work.resolve("live4.qcow2");
        Process first = liveRestore("r4a", snapshot, live, "--rate", "4M");
        awaitImage(first, live, "r4a");
        qemu.attach("vda4", live);
        awaitOffset("coffer-live-vda4", 2 << 20, first, "r4a");
        first.destroy(); // SIGTERM
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(LiveRestore.defaultSocket(live)).as("stopped serving").doesNotExist();
        // released on the way out, not left to expire (300 s): the restore point can go at once
        deleteSnapshot(snapshot);

        Process wrong = liveRestore("r4b", other, live);
        assertThat(wrong.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(work.resolve("r4b.err"));
        assertThat(wrong.exitValue()).as(err).isNotZero();
        assertThat(err).contains("unfinished live restore of restore point " + snapshot);
        assertThat(qemu.node("vda4").get("backing_file")).as("the image was left alone").isNotNull();

        qemu.qmp().execute("block-job-cancel", qemu.qmp().args().put("device", "coffer-live-vda4").put("force", true));
        for (int i = 0; i < 400 && qemu.job("coffer-live-vda4") != null; i++) {
            Thread.sleep(50);
        }
        qemu.detach("vda4");
    }

    @Test
    void shouldGiveUpWaitingForQemuAndLeaveAnImageARerunCanFinish() throws Exception {
        String snapshot = backup("vm/6");
        Path live = work.resolve("live6.qcow2");
        Path nobody = work.resolve("nobody.qmp");
        Run r = CofferProcess.run(env(), "restore", snapshot, "--live", "--to", "file:" + live, "--qmp", nobody.toString(), "--wait", "2");
        assertThat(r.code()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("no QEMU answered on QMP socket " + nobody).contains("run the same live restore again");
        assertThat(LiveRestore.defaultSocket(live)).doesNotExist();
        assertThat(LiveRestore.marker(live)).hasContent(snapshot + "\n");
        JsonNode info = CofferProcess.JSON.readTree(tool("qemu-img", "info", "-U", "--output=json", live.toString()));
        assertThat(info.get("backing-filename").asText()).contains(LiveRestore.defaultSocket(live).toString());

        Process rerun = liveRestore("r6", snapshot, live);
        awaitNodeWanted(rerun, "r6");
        qemu.attach("vda6", live);
        assertThat(rerun.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(rerun.exitValue()).as(Files.readString(work.resolve("r6.err"))).isZero();
        assertThat(LiveRestore.marker(live)).as("removed once the image is complete").doesNotExist();
        assertThat(sha256(exportContent("vda6"))).isEqualTo(sha256(original));
        qemu.detach("vda6");
        assertStandsAlone(live, original);
    }

    @Test
    void shouldStopServingAndReleaseTheLeaseWhenQemuDiesAndFinishWhenRerunWithQemuBack() throws Exception {
        String snapshot = backup("vm/7");
        Path archive = work.resolve("vm7.cfa"); // brings the restore point back after the lease check deleted it
        ok(env(), "export", snapshot, "-o", archive.toString());
        Path live = work.resolve("live7.qcow2");
        Process first = liveRestore("r7a", snapshot, live, "--rate", "8M");
        awaitImage(first, live, "r7a");
        qemu.attach("vda7", live);
        awaitOffset("coffer-live-vda7", 4 << 20, first, "r7a");
        qemu.kill(); // SIGKILL mid-copy: the VM's QEMU crashed
        try {
            assertThat(first.waitFor(10, TimeUnit.SECONDS)).as("coffer noticed QEMU is gone").isTrue();
            String err = Files.readString(work.resolve("r7a.err"));
            assertThat(first.exitValue()).as(err).isEqualTo(1);
            assertThat(err).contains("QEMU is gone: its QMP connection broke during the live restore into " + live)
                    .contains("start QEMU again with the image and run the same live restore again");
            assertThat(LiveRestore.defaultSocket(live)).as("stopped serving").doesNotExist();
            deleteSnapshot(snapshot); // the reader lease went with it, not left to expire

            String info = tool("qemu-img", "info", "--output=json", live.toString());
            JsonNode j = CofferProcess.JSON.readTree(info);
            assertThat(j.get("format").asText()).as(info).isEqualTo("qcow2");
            assertThat(j.get("backing-filename").asText()).as(info).contains(LiveRestore.defaultSocket(live).toString());
            // 0: clean; 3: leaked clusters only (copied, but QEMU died before linking them), wasted space and no harm
            Exec check = exec("qemu-img", "check", "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\""
                    + live + "\"},\"backing\":null}"); // the image alone: nothing serves its backing now
            assertThat(check.code()).as(check.out()).isIn(0, 3);
        } finally {
            qemu = QemuDaemon.start(qemu.dir); // the VM's QEMU comes back (before the image: it opens it once coffer serves)
        }

        ok(env(), "import", archive.toString());
        Process second = liveRestore("r7b", snapshot, live, "--rate", "8M");
        awaitNodeWanted(second, "r7b");
        qemu.attach("vda7", live);
        assertThat(second.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).as(Files.readString(work.resolve("r7b.err"))).isZero();
        JsonNode disk = CofferProcess.JSON.readTree(Files.readString(work.resolve("r7b.out"))).get("disks").get(0);
        assertThat(disk.get("stream_jobs").asInt()).as("a new QEMU, a new job").isEqualTo(1);
        // what the dead QEMU copied may be lost with its metadata cache (on the rig all of it was): at most the data again
        assertThat(disk.get("written_bytes").asLong()).isPositive().isLessThanOrEqualTo(SIZE - ZERO);
        assertThat(sha256(exportContent("vda7"))).isEqualTo(sha256(original));
        qemu.detach("vda7");
        assertStandsAlone(live, original);
    }

    // ------------------------------------------------------------------ helpers

    /** Waits until the rerun serves again (its socket is back) and waits for QEMU. */
    private static void awaitNodeWanted(Process p, String name) throws Exception {
        for (int i = 0; i < 600 && !Files.readString(work.resolve(name + ".err")).contains("waiting for QEMU"); i++) {
            assertThat(p.isAlive()).as("coffer restore --live: %s", Files.readString(work.resolve(name + ".err"))).isTrue();
            Thread.sleep(100);
        }
    }

    private static Map<String, String> env() {
        return server.env(adminToken);
    }

    private static String backup(String group) throws Exception {
        return ok(env(), "backup", group, "--source", "file:" + image, "--json").json().get("snapshot").asText();
    }

    private static Process liveRestore(String name, String snapshot, Path live, String... extra) throws Exception {
        String[] args = {"restore", snapshot, "--live", "--to", "file:" + live, "--qmp", qemu.qmpSocket.toString(), "--json"};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        return CofferProcess.start(env(), work.resolve(name + ".out"), work.resolve(name + ".err"), all);
    }

    private static void awaitImage(Process p, Path live, String name) throws Exception {
        for (int i = 0; i < 600 && !Files.exists(live); i++) {
            assertThat(p.isAlive()).as("coffer restore --live: %s", Files.readString(work.resolve(name + ".err"))).isTrue();
            Thread.sleep(100);
        }
        assertThat(live).exists();
    }

    private static void awaitOffset(String job, long offset, Process p, String name) throws Exception {
        for (int i = 0; i < 600; i++) {
            JsonNode j = qemu.job(job);
            if (j != null && j.path("offset").asLong() >= offset) {
                return;
            }
            assertThat(p.isAlive()).as("coffer restore --live: %s", Files.readString(work.resolve(name + ".err"))).isTrue();
            Thread.sleep(50);
        }
        throw new AssertionError("job " + job + " never reached offset " + offset + "; " + Files.readString(work.resolve(name + ".err")));
    }

    private static void guestWrite(String node, long offset, int length, int pattern, byte[] expected) throws Exception {
        tool("qemu-io", "-f", "raw", "-c", "write -P " + pattern + " " + offset + " " + length, qemu.uri(node));
        Arrays.fill(expected, (int) offset, (int) offset + length, (byte) pattern);
    }

    private static byte[] exportContent(String node) throws Exception {
        Path out = work.resolve(node + ".export.raw");
        Files.deleteIfExists(out);
        tool("nbdcopy", qemu.uri(node), out.toString());
        return Files.readAllBytes(out);
    }

    /** After QEMU closed it: no backing file in the header, and the content as expected without one. */
    private static void assertStandsAlone(Path live, byte[] expected) throws Exception {
        String info = tool("qemu-img", "info", "--output=json", live.toString());
        assertThat(CofferProcess.JSON.readTree(info).get("backing-filename")).as(info).isNull();
        Path raw = work.resolve(live.getFileName() + ".raw");
        tool("qemu-img", "convert", "-f", "qcow2", "-O", "raw", live.toString(), raw.toString());
        assertThat(sha256(Files.readAllBytes(raw))).isEqualTo(sha256(expected));
    }

    private static void deleteSnapshot(String snapshot) throws Exception {
        try (StoreClient c = StoreClient.connect(StoreEndpoint.parse(server.store(), adminToken, server.fingerprint()), 1)) {
            c.bytes(HttpMethod.DELETE, "/api/v1/datastores/" + server.start.get("datastore").asText() + "/snapshot?snapshot="
                    + URLEncoder.encode(snapshot, StandardCharsets.UTF_8), null);
        }
    }

    static String sha256(byte[] b) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }

    record Exec(int code, String out) {}

    static Exec exec(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Exec(p.exitValue(), out);
    }

    static String tool(String... command) throws Exception {
        Exec e = exec(command);
        assertThat(e.code()).as("%s: %s", String.join(" ", command), e.out()).isZero();
        return e.out();
    }
}
