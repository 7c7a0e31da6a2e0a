package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.StoreClientException;
import dev.coffer.store.api.StoreEndpoint;
import io.vertx.core.http.HttpMethod;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Instant access: {@code coffer serve} of a backed-up sparse image, read by NBD clients others
 * wrote — qemu-img, nbdcopy, nbdinfo and qemu-io — over a unix socket.
 */
final class ServeIT {

    private static final int CS = 64 * 1024;
    private static final long SIZE = 32L << 20;
    /** Data at 0 (1 MiB), 8 MiB (300 KiB + a bit, unaligned end) and the last 64 KiB; everything else zero. */
    private static final long[] EXTENTS = {0, 1 << 20, 8L << 20, 300_000, SIZE - CS, CS};

    @TempDir
    static Path work;
    static CofferProcess.Server server;
    static Map<String, String> admin;
    static Path image;
    static Process serve;
    static JsonNode listening;
    static Path socket;

    @BeforeAll
    static void start() throws Exception {
        server = CofferProcess.server(work, "--datastore", work.resolve("ds").toString(), "--chunk-size", Integer.toString(CS));
        admin = server.env(server.start.get("token").asText());
        image = Images.sparse(work.resolve("disk.img"), SIZE, 5, EXTENTS);
        JsonNode b = ok(admin, "backup", "vm/7", "--source", "file:" + image, "--json").json();
        socket = work.resolve("serve.sock");
        ProcessBuilder pb = new ProcessBuilder(CofferProcess.LAUNCHER.toString(), "serve", b.get("snapshot").asText(), "--listen",
                "unix:" + socket, "--json");
        pb.environment().keySet().removeIf(k -> k.startsWith("COFFER_"));
        pb.environment().putAll(admin);
        serve = pb.redirectError(work.resolve("serve.err").toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(serve.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("coffer serve's JSON line; stderr: %s", Files.readString(work.resolve("serve.err"))).isNotNull();
        listening = CofferProcess.JSON.readTree(line);
    }

    @AfterAll
    static void stop() throws Exception {
        if (serve != null) {
            serve.destroy();
            serve.waitFor(20, TimeUnit.SECONDS);
        }
        server.close();
    }

    @Test
    void shouldPrintItsUriAndSize() {
        assertThat(listening.get("uri").asText()).isEqualTo("nbd+unix:///drive0?socket=" + socket);
        assertThat(listening.get("size").asLong()).isEqualTo(SIZE);
    }

    @Test
    void shouldBeCopiedBitIdenticalByQemuImgAndNbdcopy() throws Exception {
        Path out = work.resolve("out.raw");
        tool("qemu-img", "convert", "-f", "raw", "nbd+unix:///drive0?socket=" + socket, out.toString());
        assertThat(Images.sha256(out)).isEqualTo(Images.sha256(image));
        Path out2 = work.resolve("out2.raw");
        tool("nbdcopy", "nbd+unix:///?socket=" + socket, out2.toString());
        assertThat(Images.sha256(out2)).isEqualTo(Images.sha256(image));
    }

    @Test
    void shouldMapZeroChunksAsHolesAndListBothExports() throws Exception {
        String map = tool("nbdinfo", "--map", "nbd+unix:///drive0?socket=" + socket);
        List<String> lines = map.lines().map(l -> l.strip().replaceAll("\\s+", " ")).toList();
        // offset length type description; chunk 8 MiB + 300000 rounds up to the chunk end
        long dataEnd = (8L << 20) + ((300_000 + CS - 1) / CS) * CS;
        assertThat(lines).as(map).containsExactly(
                "0 1048576 0 data",
                "1048576 7340032 3 hole,zero",
                "8388608 " + (dataEnd - (8L << 20)) + " 0 data",
                dataEnd + " " + (SIZE - CS - dataEnd) + " 3 hole,zero",
                (SIZE - CS) + " 65536 0 data");
        String list = tool("nbdinfo", "--list", "--json", "nbd+unix:///?socket=" + socket);
        JsonNode exports = CofferProcess.JSON.readTree(list).get("exports");
        // the disk's export and the default one; nbdinfo shows the canonical name (INFO_NAME), the disk's, for both
        assertThat(exports.size()).as(list).isEqualTo(2);
        assertThat(exports.findValuesAsText("export-name")).containsOnly("drive0");
        assertThat(exports.get(0).get("is_read_only").asBoolean()).isTrue();
        assertThat(exports.get(0).get("export-size").asLong()).isEqualTo(SIZE);
    }

    @Test
    void shouldRefuseWrites() throws Exception {
        Process p = new ProcessBuilder("qemu-io", "-f", "raw", "-c", "write -P 0x55 0 512", "nbd+unix:///drive0?socket=" + socket)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isNotZero();
        assertThat(out.toLowerCase()).containsAnyOf("read-only", "read only", "permission");
        Path out3 = work.resolve("out3.raw");
        tool("qemu-img", "convert", "-f", "raw", "nbd+unix:///drive0?socket=" + socket, out3.toString());
        assertThat(Images.sha256(out3)).as("nothing was written").isEqualTo(Images.sha256(image));
    }

    @Test
    void shouldReleaseItsReaderLeaseWhenStoppedWithSigterm() throws Exception {
        // a restore point of its own, so deleting it touches no other test
        String snapshot = ok(admin, "backup", "vm/8", "--source", "file:" + image, "--json").json().get("snapshot").asText();
        Path sock = work.resolve("lease.sock");
        Process p = CofferProcess.start(admin, work.resolve("lease.out"), work.resolve("lease.err"), "serve", snapshot, "--listen",
                "unix:" + sock, "--json");
        for (int i = 0; i < 300 && Files.size(work.resolve("lease.out")) == 0; i++) {
            assertThat(p.isAlive()).as(Files.readString(work.resolve("lease.err"))).isTrue();
            Thread.sleep(100);
        }
        assertThat(tool("nbdinfo", "--size", "nbd+unix:///?socket=" + sock).strip()).isEqualTo(Long.toString(SIZE));
        try (StoreClient c = StoreClient.connect(StoreEndpoint.parse(server.store(), server.start.get("token").asText(),
                server.fingerprint()), 1)) {
            String delete = "/api/v1/datastores/" + server.start.get("datastore").asText() + "/snapshot?snapshot="
                    + URLEncoder.encode(snapshot, StandardCharsets.UTF_8);
            assertThatThrownBy(() -> c.bytes(HttpMethod.DELETE, delete, null)).as("the reader lease holds the restore point")
                    .isInstanceOfSatisfying(StoreClientException.class, e -> assertThat(e.code()).as(e.getMessage()).isEqualTo("in-use"));

            p.destroy(); // SIGTERM (bin/coffer execs the JVM)
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(sock).as("the socket is removed").doesNotExist();
            // the lease was released on the way out, not left to expire (300 s): the delete goes through at once
            c.bytes(HttpMethod.DELETE, delete, null);
        }
        assertThat(ok(admin, "snapshots", "vm/8", "--json").json().size()).isZero();
    }

    /**
     * The launcher's 192 MiB heap serving a datastore of the default 1 MiB chunks, read whole by
     * nbdcopy: a 1 MiB array takes two 1 MiB G1 regions there, and a cache sized at chunk bytes for
     * half the heap filled all of it ("Java heap space", EIO to the client) before this was counted.
     */
    @Test
    void shouldServeADefaultChunkSizeDiskFarLargerThanItsHeap() throws Exception {
        Path dir = work.resolve("default-chunks");
        Files.createDirectories(dir);
        try (CofferProcess.Server s = CofferProcess.server(dir, "--datastore", dir.resolve("ds").toString())) {
            Map<String, String> env = s.env(s.start.get("token").asText());
            Path big = Images.random(dir.resolve("big.img"), 320L << 20, 11);
            String snapshot = ok(env, "backup", "vm/9", "--source", "file:" + big, "--json").json().get("snapshot").asText();
            Path sock = dir.resolve("big.sock");
            Process p = CofferProcess.start(env, dir.resolve("big.out"), dir.resolve("big.err"), "serve", snapshot, "--listen",
                    "unix:" + sock, "--json");
            try {
                for (int i = 0; i < 300 && Files.size(dir.resolve("big.out")) == 0; i++) {
                    assertThat(p.isAlive()).as(Files.readString(dir.resolve("big.err"))).isTrue();
                    Thread.sleep(100);
                }
                Path out = dir.resolve("big.raw");
                tool("nbdcopy", "nbd+unix:///?socket=" + sock, out.toString());
                assertThat(Images.sha256(out)).as("stderr of coffer serve: %s", Files.readString(dir.resolve("big.err")))
                        .isEqualTo(Images.sha256(big));
                assertThat(Files.readString(dir.resolve("big.err"))).doesNotContain("heap");
            } finally {
                p.destroy();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static String tool(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), out).isZero();
        return out;
    }
}
