package dev.coffer.agent.nbd;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures the backup must survive or report clearly, injected with nbdkit filters over TCP on the
 * default (empty-named) export: read errors (error filter, switched on by a trigger file), a server
 * that stops answering (delay filter on WRITE_ZEROES, longer than the client's timeout) and a server
 * killed while reads are in flight.
 */
final class NbdFaultTest {

    private static final int SIZE = 64 << 20;

    @TempDir
    static Path dir;

    private static NbdServerProcess server;
    private static NbdUri uri;
    private static Path inject;

    @BeforeAll
    static void startNbdkit() throws Exception {
        inject = dir.resolve("inject-eio");
        int port = NbdServerProcess.freePort();
        server = NbdServerProcess.onPort(dir, "nbdkit", port, cmd("nbdkit", "--foreground", "--exit-with-parent",
                "--ipaddr=127.0.0.1", "--port=" + port, "--filter=error", "--filter=delay", "memory", "size=" + SIZE,
                "error-pread=EIO", "error-pread-rate=100%", "error-pread-file=" + inject, "delay-zero=5"));
        uri = NbdUri.parse("nbd://127.0.0.1:" + port);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void shouldUseTheDefaultExportOverTcp() throws Exception {
        try (NbdClient client = NbdClient.connect(uri)) {
            assertThat(client.info().name()).isEmpty();
            assertThat(client.info().size()).isEqualTo(SIZE);
            byte[] data = new byte[65536];
            Arrays.fill(data, (byte) 0x5a);
            client.write(1 << 20, data, 0, data.length);
            byte[] back = new byte[65536];
            client.read(1 << 20, back, 0, back.length);
            assertThat(back).isEqualTo(data);
            assertThat(client.blockStatus(0, SIZE).of(BlockStatus.BASE_ALLOCATION).getLast().end()).isEqualTo(SIZE);
        }
    }

    @Test
    void shouldReportAnInjectedReadErrorAsEioNamingTheOffsetAndKeepTheConnection() throws Exception {
        try (NbdClient client = NbdClient.connect(uri)) {
            byte[] buf = new byte[4096];
            Files.createFile(inject);
            try {
                assertThatThrownBy(() -> client.read(40960, buf, 0, 4096))
                        .isInstanceOfSatisfying(NbdException.class, e -> {
                            assertThat(e.errno()).contains(NbdErrno.EIO);
                            assertThat(e.offset()).isEqualTo(40960);
                            assertThat(e).isNotInstanceOf(NbdTimeoutException.class);
                        })
                        .hasMessageContaining("READ offset=40960 length=4096")
                        .hasMessageContaining("EIO");
            } finally {
                Files.delete(inject);
            }
            client.read(40960, buf, 0, 4096); // one failed request does not break the connection
        }
    }

    @Test
    void shouldTimeOutASilentServerNamingTheOffset() throws Exception {
        NbdClientOptions options = NbdClientOptions.defaults().withTimeout(Duration.ofSeconds(1));
        try (NbdClient client = NbdClient.connect(uri, options)) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> client.writeZeroes(8192, 4096, false))
                    .isInstanceOfSatisfying(NbdTimeoutException.class, e -> {
                        assertThat(e.offset()).isEqualTo(8192);
                        assertThat(e.timeout()).isEqualTo(Duration.ofSeconds(1));
                    })
                    .hasMessageContaining("WRITE_ZEROES offset=8192")
                    .hasMessageContaining("no reply within 1 s");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(4));
            // the connection is gone: the next request fails at once instead of waiting again
            assertThatThrownBy(() -> client.read(0, new byte[512], 0, 512)).isInstanceOf(NbdException.class)
                    .hasMessageContaining("no reply within 1 s");
        }
    }

    @Test
    void shouldFailInFlightReadsWhenTheServerIsKilled() throws Exception {
        Path socket = dir.resolve("doomed.sock");
        NbdServerProcess doomed = NbdServerProcess.onSocket(dir, "nbdkit-doomed", socket, cmd("nbdkit", "--foreground",
                "--exit-with-parent", "--unix=" + socket, "--filter=delay", "memory", "size=" + SIZE, "delay-read=20ms"));
        NbdClientOptions options = NbdClientOptions.defaults().withTimeout(Duration.ofSeconds(30));
        try (NbdClient client = NbdClient.connect(NbdUri.unix(socket, ""), options)) {
            ArrayDeque<CompletableFuture<Void>> window = new ArrayDeque<>();
            long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            long killed = 0;
            Throwable failure = null;
            int completed = 0;
            for (long offset = 0; failure == null; offset = (offset + 262144) % SIZE) {
                if (killed == 0 && System.nanoTime() > killAt) {
                    doomed.kill();
                    killed = System.nanoTime();
                }
                if (window.size() == 16) {
                    try {
                        window.removeFirst().get(10, TimeUnit.SECONDS);
                        completed++;
                    } catch (ExecutionException e) {
                        failure = e.getCause();
                    }
                }
                if (failure == null) {
                    window.add(client.readAsync(offset, new byte[262144], 0, 262144));
                }
            }
            assertThat(completed).as("reads completed before the kill").isPositive();
            assertThat(killed).isPositive();
            assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(5));
            assertThat(failure).isInstanceOf(NbdException.class).isNotInstanceOf(NbdTimeoutException.class)
                    .hasMessageContaining("READ offset=");
        } finally {
            doomed.close();
        }
    }
}
