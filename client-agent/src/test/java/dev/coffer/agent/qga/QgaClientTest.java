package dev.coffer.agent.qga;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QgaClient against a real qemu-ga listening on a unix socket, as the host side of a VM's channel
 * would be. The agent runs on the test machine itself, so every freeze command is disabled with
 * {@code --block-rpcs}: these tests must never freeze this machine's filesystems.
 */
final class QgaClientTest {

    static final String BLOCKED = "guest-fsfreeze-freeze,guest-fsfreeze-freeze-list,guest-fsfreeze-thaw";

    @TempDir
    static Path dir;

    private static Process qga;
    private static Path socket;

    /**
     * Started without a readiness probe: qemu-ga 7.2 in unix-listen mode stops listening for good
     * when a client closes without a clean exchange, so the tests wait for the socket file instead.
     */
    @BeforeAll
    static void start() throws Exception {
        socket = dir.resolve("qga.sock");
        qga = new ProcessBuilder(cmd("qemu-ga", "-m", "unix-listen", "-p", socket.toString(), "-t", dir.toString(),
                "-f", dir.resolve("qga.pid").toString(), "-b", BLOCKED)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("qga.log").toFile()).start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(socket)) {
            assertThat(qga.isAlive()).as("qemu-ga runs: %s", Files.readString(dir.resolve("qga.log"))).isTrue();
            assertThat(System.nanoTime()).as("qemu-ga listens within 10 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (qga != null) {
            qga.destroy();
            qga.waitFor();
        }
    }

    @Test
    void pingAndInfoOverARealGuestAgent() throws Exception {
        try (QgaClient c = QgaClient.connect(socket, Duration.ofSeconds(10))) {
            c.ping();
            JsonNode info = c.info();
            assertThat(info.path("version").asText()).startsWith("7.");
            boolean pingEnabled = false;
            boolean freezeEnabled = true;
            for (JsonNode cmd : info.path("supported_commands")) {
                if (cmd.path("name").asText().equals("guest-ping")) {
                    pingEnabled = cmd.path("enabled").asBoolean();
                }
                if (cmd.path("name").asText().equals("guest-fsfreeze-freeze")) {
                    freezeEnabled = cmd.path("enabled").asBoolean();
                }
            }
            assertThat(pingEnabled).isTrue();
            assertThat(freezeEnabled).as("the test agent can never freeze this machine").isFalse();
            assertThat(c.fsfreezeStatus()).isEqualTo("thawed");
        }
    }

    @Test
    void aRefusedFreezeIsAClearError() throws Exception {
        try (QgaClient c = QgaClient.connect(socket, Duration.ofSeconds(10))) {
            assertThatThrownBy(c::fsfreezeFreeze).isInstanceOf(QgaException.class)
                    .hasMessageContaining("refused guest-fsfreeze-freeze").hasMessageContaining("disabled");
            c.ping(); // the connection stays usable
        }
    }

    /**
     * A reply an earlier client left unread is skipped by the sync. qemu-ga cannot be made to keep
     * one (it drops the listener when such a client leaves), so a fake agent sends a stale reply
     * and junk before answering the sync as qemu-ga does: 0xFF, then the reply.
     */
    @Test
    void aStaleReplyBeforeTheSyncIsSkipped() throws Exception {
        Path fake = dir.resolve("fake.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(fake));
            Thread agent = Thread.ofPlatform().daemon().start(() -> {
                try (SocketChannel ch = server.accept()) {
                    var in = new java.io.BufferedReader(new java.io.InputStreamReader(java.nio.channels.Channels.newInputStream(ch),
                            StandardCharsets.UTF_8));
                    JsonNode sync = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in.readLine());
                    long id = sync.path("arguments").path("id").asLong();
                    ByteBuffer out = ByteBuffer.allocate(256);
                    out.put("{\"return\": {\"version\": \"stale\"}}\n{\"retu".getBytes(StandardCharsets.UTF_8));
                    out.put((byte) 0xFF);
                    out.put(("{\"return\": " + id + "}\n").getBytes(StandardCharsets.UTF_8));
                    ch.write(out.flip());
                    in.readLine(); // guest-ping
                    ch.write(ByteBuffer.wrap("{\"return\": {}}\n".getBytes(StandardCharsets.UTF_8)));
                } catch (Exception e) {
                    // the client reports what went wrong
                }
            });
            try (QgaClient c = QgaClient.connect(fake, Duration.ofSeconds(5))) {
                c.ping();
            }
            agent.join(5_000);
        }
    }

    @Test
    void aGuestWithoutAgentTimesOutNamingTheSocket() throws Exception {
        Path silent = dir.resolve("silent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(silent));
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> QgaClient.connect(silent, Duration.ofMillis(500))).isInstanceOf(QgaException.class)
                    .hasMessageContaining(silent.toString()).hasMessageContaining("did not answer");
            assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(450L, 5_000L);
        }
    }

    @Test
    void aMissingSocketSaysWhatTheOptionMeans() {
        assertThatThrownBy(() -> QgaClient.connect(dir.resolve("nope.sock"), Duration.ofSeconds(1)))
                .hasMessageContaining("nope.sock").hasMessageContaining("--qga-socket");
    }
}
