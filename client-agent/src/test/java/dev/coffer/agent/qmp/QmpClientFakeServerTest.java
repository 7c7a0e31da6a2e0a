package dev.coffer.agent.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Client behaviour QEMU does not show on demand: late replies, silence, a dying peer, events between replies. */
final class QmpClientFakeServerTest {

    @TempDir
    Path dir;

    private interface Script {
        void run(BufferedReader in, OutputStream out) throws Exception;
    }

    private CompletableFuture<Void> serve(Path socket, Script script) throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        return CompletableFuture.runAsync(() -> {
            try (server; SocketChannel ch = server.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
                OutputStream out = Channels.newOutputStream(ch);
                send(out, "{\"QMP\":{\"version\":{\"qemu\":{\"major\":7,\"minor\":2,\"micro\":22}},\"capabilities\":[]}}");
                String caps = in.readLine();
                send(out, "{\"return\":{},\"id\":" + id(caps) + "}");
                script.run(in, out);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static void send(OutputStream out, String line) throws Exception {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String id(String request) {
        int i = request.lastIndexOf("\"id\":");
        return request.substring(i + 5, request.indexOf('}', i));
    }

    @Test
    void repliesAreMatchedByIdAndEventsBetweenThemGoToListenersAndQueue() throws Exception {
        Path s = dir.resolve("q.sock");
        CompletableFuture<Void> server = serve(s, (in, out) -> {
            String r = in.readLine();
            send(out, "{\"event\":\"BLOCK_IO_ERROR\",\"data\":{\"node-name\":\"cbw\",\"nospace\":true,\"action\":\"stop\"},"
                    + "\"timestamp\":{\"seconds\":1700000000,\"microseconds\":5}}");
            send(out, "{\"return\":{\"late\":true},\"id\":\"not-yours\"}");
            send(out, "{\"return\":{\"ok\":1},\"id\":" + id(r) + "}");
            r = in.readLine();
            send(out, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Job 'j' not found\"},\"id\":" + id(r) + "}");
            in.readLine();
        });
        try (QmpClient qmp = QmpClient.connect(s)) {
            CompletableFuture<QmpEvent> heard = new CompletableFuture<>();
            qmp.addEventListener(heard::complete);
            assertThat(qmp.execute("query-status").path("ok").asInt()).isEqualTo(1);
            QmpEvent e = heard.get(5, TimeUnit.SECONDS);
            assertThat(e.name()).isEqualTo("BLOCK_IO_ERROR");
            assertThat(e.data().path("nospace").asBoolean()).isTrue();
            assertThat(e.timestamp().getEpochSecond()).isEqualTo(1700000000L);
            assertThat(qmp.awaitEvent(x -> x.name().equals("BLOCK_IO_ERROR"), Duration.ofSeconds(1))).isEqualTo(e);
            assertThatThrownBy(() -> qmp.execute("job-cancel", qmp.args().put("id", "j")))
                    .isInstanceOfSatisfying(QmpException.class, x -> {
                        assertThat(x.command()).isEqualTo("job-cancel");
                        assertThat(x.errorClass()).isEqualTo("GenericError");
                        assertThat(x.desc()).isEqualTo("Job 'j' not found");
                    });
        }
        server.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aSilentCommandTimesOutAndADyingPeerFailsTheWaitingOne() throws Exception {
        Path s = dir.resolve("q.sock");
        CompletableFuture<Void> server = serve(s, (in, out) -> {
            in.readLine();          // never answered
            in.readLine();          // the second: hang up instead
        });
        try (QmpClient qmp = QmpClient.connect(s, Duration.ofSeconds(5), Duration.ofSeconds(30))) {
            assertThatThrownBy(() -> qmp.execute("query-status", null, Duration.ofMillis(300)))
                    .isInstanceOf(QmpTimeoutException.class).hasMessageContaining("query-status");
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> qmp.execute("query-jobs")).isInstanceOf(QmpException.class)
                    .hasMessageContaining("closed by QEMU");
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5_000);
            assertThat(qmp.isOpen()).isFalse();
        }
        server.get(5, TimeUnit.SECONDS);
    }

    @Test
    void noGreetingIsQmpSocketBusy() throws Exception {
        Path s = dir.resolve("q.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(s));   // accepts into the backlog, never greets
            assertThatThrownBy(() -> QmpClient.connect(s, Duration.ofMillis(300), Duration.ofSeconds(1)))
                    .isInstanceOf(QmpBusyException.class).hasMessageStartingWith("QMP socket busy");
        }
        assertThatThrownBy(() -> QmpClient.connect(dir.resolve("none.sock"))).isInstanceOf(QmpException.class)
                .hasMessageContaining("cannot connect");
    }
}
