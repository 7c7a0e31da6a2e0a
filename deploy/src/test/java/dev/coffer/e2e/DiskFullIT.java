package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static dev.coffer.e2e.CofferProcess.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
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
 * A datastore on a filesystem that fills up (a 48 MiB tmpfs, so it needs root to mount): the
 * backup that does not fit fails with a clear 507, publishes nothing and leaves no staged files;
 * everything stored before stays listable and restorable; a backup that needs no new chunks still
 * succeeds; the server restarts on the nearly full filesystem, and on a 100% full one refuses to
 * start with a message that says so.
 */
final class DiskFullIT {

    private static final int CS = 64 * 1024;

    @TempDir
    static Path work;
    static Path mnt;
    static boolean mounted;
    static CofferProcess.Server server;
    static String token;

    @BeforeAll
    static void mount() throws Exception {
        String uid = exec("id", "-u").strip();
        assumeTrue(uid.equals("0"), "DiskFullIT needs root to mount a small tmpfs (id -u is " + uid + "); CI runs it as root");
        mnt = Files.createDirectory(work.resolve("mnt"));
        String out = exec("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt.toString());
        assertThat(out).as("mount output").isEmpty();
        mounted = true;
    }

    @AfterAll
    static void unmount() throws Exception {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (mounted) {
                try {
                    exec("umount", mnt.toString());
                } catch (IOException busy) {
                    exec("umount", "-l", mnt.toString());
                }
            }
        }
    }

    @Test
    void shouldRefuseWhatDoesNotFitAndKeepEverythingElse() throws Exception {
        Path ds = mnt.resolve("ds");
        Path tmp = ds.resolve(".coffer").resolve("tmp");
        String[] serverArgs = {"--datastore", ds.toString(), "--state", work.resolve("state").toString(),
            "--chunk-size", Integer.toString(CS)};
        server = CofferProcess.server(work, serverArgs);
        token = server.start.get("token").asText();
        Map<String, String> env = server.env(token);

        Path small = Images.random(work.resolve("small.img"), 8L << 20, 1);
        String smallSum = Images.sha256(small);
        String rp1 = ok(env, "backup", "vm/1", "--source", "file:" + small, "--json").json().get("snapshot").asText();

        long free = Files.getFileStore(mnt).getUsableSpace();
        Path big = Images.random(work.resolve("big.img"), free + (16L << 20), 2);
        CofferProcess.Run full = run(env, "backup", "vm/2", "--source", "file:" + big);
        String message = full.err().strip();
        assertThat(full.code()).as("exit code; stderr: %s", message).isEqualTo(1);
        assertThat(message.lines()).as("one line: %s", message).hasSize(1);
        assertThat(message).startsWith("coffer backup: store answered 507 (datastore-full)")
                .contains("the datastore's filesystem is full").contains("No space left on device");
        assertThat(Files.getFileStore(mnt).getUsableSpace()).as("the filesystem did fill up").isLessThan(1L << 20);
        assertThat(list(tmp)).as("the aborted session's staged files").isEmpty();

        assertThat(snapshots(env)).as("only earlier restore points").containsExactly(rp1);
        assertThat(restore(env, rp1, "rp1.out")).isEqualTo(smallSum);

        // no new chunks: only an index and a manifest to store, which still fit
        Thread.sleep(1100);
        JsonNode again = ok(env, "backup", "vm/1", "--source", "file:" + small, "--json").json();
        assertThat(again.get("disks").get(0).get("uploaded_chunks").asLong()).isZero();
        String rp2 = again.get("snapshot").asText();
        assertThat(snapshots(env)).containsExactlyInAnyOrder(rp1, rp2);

        // a restart on the nearly full filesystem: RocksDB reopens
        server.close();
        server = CofferProcess.server(work, serverArgs);
        env = server.env(token);
        assertThat(snapshots(env)).containsExactlyInAnyOrder(rp1, rp2);
        assertThat(restore(env, rp2, "rp2.out")).isEqualTo(smallSum);

        // 100% full: reopening RocksDB writes a table file, so the server refuses to start and says why
        server.close();
        server = null;
        Path filler = fill(mnt.resolve("filler"));
        assertThat(Files.getFileStore(mnt).getUsableSpace()).isZero();
        assertThatThrownBy(() -> CofferProcess.server(work, serverArgs))
                .hasMessageContaining("cannot open the datastore index in " + ds.resolve(".coffer").resolve("index"))
                .hasMessageContaining("its filesystem is full")
                .hasMessageContaining("free a few MiB on it and start again");

        // freeing space is all it takes
        Files.delete(filler);
        server = CofferProcess.server(work, serverArgs);
        env = server.env(token);
        assertThat(snapshots(env)).containsExactlyInAnyOrder(rp1, rp2);
    }

    private static List<String> snapshots(Map<String, String> env) throws Exception {
        List<String> out = new ArrayList<>();
        ok(env, "snapshots", "--json").json().forEach(s -> out.add(s.get("snapshot").asText()));
        return out;
    }

    private static String restore(Map<String, String> env, String snapshot, String file) throws Exception {
        Path to = work.resolve(file);
        ok(env, "restore", snapshot, "--to", "file:" + to);
        return Images.sha256(to);
    }

    /** Writes {@code file} until the filesystem has no byte left. */
    private static Path fill(Path file) throws IOException {
        byte[] block = new byte[4096];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left on device")) {
                throw e;
            }
        }
        return file;
    }

    private static List<Path> list(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.toList();
        }
    }

    /** Runs a command; its stdout and stderr, or an IOException when it fails. */
    private static String exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}
