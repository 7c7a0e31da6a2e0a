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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Safety rules 1 and 3 with real processes: a {@code coffer server} SIGKILLed in the middle of a
 * backup publishes nothing partial and cleans up on its next start; a backup client SIGKILLed in
 * the middle leaves a session that expires with its lease and publishes nothing.
 *
 * <p>Both tests use one datastore; the second runs on the server the first restarted (with a
 * 5 s lease, so the orphaned session of the second expires quickly).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
final class CrashIT {

    private static final int CS = 1 << 20;
    private static final long BIG = 128L << 20;
    private static final String LEASE = "5";

    @TempDir
    static Path work;
    static Path ds;
    /** The bootstrap admin token: printed only by the first start, valid across restarts. */
    static String token;
    static CofferProcess.Server server;

    @BeforeAll
    static void start() throws Exception {
        ds = work.resolve("ds");
        server = CofferProcess.server(work, "--datastore", ds.toString(), "--chunk-size", Integer.toString(CS),
                "--session-lease", LEASE);
        token = server.start.get("token").asText();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void shouldPublishNothingWhenTheServerIsKilledMidBackupAndRecoverOnRestart() throws Exception {
        Map<String, String> env = server.env(token);
        Path img = Images.sparse(work.resolve("a.img"), 16L << 20, 1, 0, 4 << 20, 8L << 20, 2 << 20);
        String sum1 = Images.sha256(img);
        String rp1 = ok(env, "backup", "vm/1", "--source", "file:" + img, "--json").json().get("snapshot").asText();
        Images.scribble(img, 9L << 20, 4096, 2);
        String sum2 = Images.sha256(img);
        Thread.sleep(1100); // restore point times have whole seconds
        String rp2 = ok(env, "backup", "vm/1", "--source", "file:" + img, "--json").json().get("snapshot").asText();

        Path big = Images.random(work.resolve("big.img"), BIG, 3);
        String bigSum = Images.sha256(big);
        long before = chunkFiles();
        Path out = work.resolve("c3.out");
        Path err = work.resolve("c3.err");
        Process client = CofferProcess.start(env, out, err, "backup", "vm/1", "--source", "file:" + big);
        awaitChunkFiles(before + 8, client, err);
        String oldUrl = server.start.get("url").asText();
        String fingerprint = server.fingerprint();
        server.kill(); // SIGKILL: no shutdown hook, no abort, staged files stay behind
        assertThat(server.process.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
        assertThat(chunkFiles()).as("the backup had not finished").isLessThan(before + BIG / CS);

        assertThat(client.waitFor(60, TimeUnit.SECONDS)).as("client ends once the server is gone").isTrue();
        String message = Files.readString(err).strip();
        assertThat(client.exitValue()).as("client exit code; stderr: %s", message).isEqualTo(1);
        assertThat(message.lines()).as("one line on stderr: %s", message).hasSize(1);
        assertThat(message).startsWith("coffer backup: cannot reach the store at " + oldUrl);
        assertThat(Files.readString(out)).isEmpty();
        assertThat(list(ds.resolve(".coffer").resolve("tmp"))).as("the dead session's staging directory").hasSize(1);
        // a chunk file the killed server was half-way through writing (whether the kill hit one is
        // a matter of timing, so one is planted, as the server names them)
        Path partial = ds.resolve("chunks").resolve(".partial");
        Files.write(partial.resolve("ab".repeat(32) + ".5eed"), new byte[5000]);

        server = CofferProcess.server(work, "--datastore", ds.toString(), "--session-lease", LEASE);
        assertThat(server.start.has("token")).as("the bootstrap token is printed only on the first start").isFalse();
        assertThat(server.fingerprint()).as("the certificate persists").isEqualTo(fingerprint);
        env = server.env(token);
        assertThat(list(ds.resolve(".coffer").resolve("tmp"))).as("staged files of the dead session after restart").isEmpty();
        assertThat(list(partial)).as("partial chunk files after restart").isEmpty();

        assertThat(snapshots(env, "vm/1")).as("no partial restore point").containsExactlyInAnyOrder(rp1, rp2);
        assertThat(restore(env, rp1, "rp1.out")).isEqualTo(sum1);
        assertThat(restore(env, rp2, "rp2.out")).isEqualTo(sum2);

        JsonNode again = ok(env, "backup", "vm/1", "--source", "file:" + big, "--json").json();
        String rp3 = again.get("snapshot").asText();
        assertThat(again.get("disks").get(0).get("uploaded_chunks").asLong()).isEqualTo(BIG / CS);
        assertThat(restore(env, rp3, "rp3.out")).isEqualTo(bigSum);
        Files.delete(work.resolve("rp3.out"));
    }

    @Test
    @Order(2)
    void shouldExpireTheSessionOfAKilledClientAndPublishNothing() throws Exception {
        if (!server.process.isAlive()) {
            server = CofferProcess.server(work, "--datastore", ds.toString(), "--session-lease", LEASE);
        }
        Map<String, String> env = server.env(token);
        Path big = Images.random(work.resolve("big2.img"), BIG, 5); // new data: its chunks appear as new files
        long before = chunkFiles();
        Path err = work.resolve("c5.err");
        Process client = CofferProcess.start(env, work.resolve("c5.out"), err, "backup", "vm/2", "--source", "file:" + big);
        awaitChunkFiles(before + 8, client, err);
        client.destroyForcibly(); // SIGKILL: no abort reaches the server
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(client.exitValue()).isEqualTo(128 + 9);
        Path tmp = ds.resolve(".coffer").resolve("tmp");
        assertThat(list(tmp)).as("the orphaned session is still open").hasSize(1);

        Path img = Images.sparse(work.resolve("b.img"), 8L << 20, 4, 0, 3 << 20);
        String sum = Images.sha256(img);
        CofferProcess.Run now = run(env, "backup", "vm/2", "--source", "file:" + img, "--json");
        if (now.code() != 0) {
            // the orphan still holds the group until its lease runs out
            assertThat(now.code()).isEqualTo(1);
            assertThat(now.err().strip().lines()).hasSize(1);
            assertThat(now.err()).contains("409").contains("group-busy").contains("is being backed up");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (!list(tmp).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(list(tmp)).as("the orphaned session expired within lease + expiry period").isEmpty();
        String rp = now.code() == 0 ? now.json().get("snapshot").asText()
                : ok(env, "backup", "vm/2", "--source", "file:" + img, "--json").json().get("snapshot").asText();

        assertThat(snapshots(env, "vm/2")).as("the expired session published nothing").containsExactly(rp);
        assertThat(restore(env, rp, "b2.out")).isEqualTo(sum);
        assertThat(list(tmp)).isEmpty();
    }

    private static List<String> snapshots(Map<String, String> env, String group) throws Exception {
        List<String> out = new ArrayList<>();
        ok(env, "snapshots", group, "--json").json().forEach(s -> out.add(s.get("snapshot").asText()));
        return out;
    }

    private static String restore(Map<String, String> env, String snapshot, String file) throws Exception {
        Path to = work.resolve(file);
        ok(env, "restore", snapshot, "--to", "file:" + to);
        return Images.sha256(to);
    }

    /** Chunk files in the datastore (half-written ones, in {@code chunks/.partial}, are not counted). */
    private static long chunkFiles() throws IOException {
        long n = 0;
        // names only: files come and go while a backup runs, so nothing else of them is read
        try (var prefixes = Files.newDirectoryStream(ds.resolve("chunks"))) {
            for (Path prefix : prefixes) {
                if (prefix.getFileName().toString().startsWith(".")) {
                    continue;
                }
                try (var files = Files.newDirectoryStream(prefix)) {
                    for (Path f : files) {
                        if (!f.getFileName().toString().startsWith(".")) {
                            n++;
                        }
                    }
                }
            }
        }
        return n;
    }

    /** Waits until the datastore holds {@code n} chunk files, while {@code client} is still uploading. */
    private static void awaitChunkFiles(long n, Process client, Path err) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (chunkFiles() < n) {
            assertThat(client.isAlive()).as("backup still running; stderr: %s", Files.readString(err)).isTrue();
            assertThat(System.nanoTime()).as("chunk files appear").isLessThan(deadline);
            Thread.sleep(20);
        }
        assertThat(client.isAlive()).as("backup still running after %d chunk files", n).isTrue();
    }

    private static List<Path> list(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.toList();
        }
    }
}
