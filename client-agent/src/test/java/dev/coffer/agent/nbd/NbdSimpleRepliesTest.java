package dev.coffer.agent.nbd;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server without structured replies ({@code nbdkit --no-sr}), as older NBD servers are: reads
 * come back as simple replies with the data after the header, and block status is impossible, which
 * the client must say at connect time rather than report every block as data.
 */
final class NbdSimpleRepliesTest {

    @TempDir
    static Path dir;

    private static NbdServerProcess server;
    private static NbdUri uri;

    @BeforeAll
    static void startNbdkit() throws Exception {
        Path socket = dir.resolve("simple.sock");
        server = NbdServerProcess.onSocket(dir, "nbdkit-no-sr", socket, cmd("nbdkit", "--foreground",
                "--exit-with-parent", "--no-sr", "--unix=" + socket, "memory", "size=16M"));
        uri = NbdUri.unix(socket, "");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void shouldReadAndWriteWithSimpleReplies() throws Exception {
        byte[] data = new byte[300_000];
        new Random(3).nextBytes(data);
        byte[] back = new byte[data.length + 2];
        try (NbdClient client = NbdClient.connect(uri, NbdClientOptions.defaults().withMetaContexts(List.of()))) {
            client.write(4096, data, 0, data.length);
            client.read(4096, back, 1, data.length);
            assertThat(java.util.Arrays.equals(back, 1, data.length + 1, data, 0, data.length)).isTrue();
            assertThatThrownBy(() -> client.read(16L << 20, new byte[512], 0, 512))
                    .isInstanceOfSatisfying(NbdException.class, e -> assertThat(e.errno()).contains(NbdErrno.EINVAL));
            client.read(0, back, 0, 4096); // an error in a simple reply leaves the stream in step
        }
    }

    @Test
    void shouldRefuseBlockStatusWithoutStructuredReplies() {
        assertThatThrownBy(() -> NbdClient.connect(uri))
                .isInstanceOf(NbdException.class)
                .hasMessageContaining("no structured replies")
                .hasMessageContaining("base:allocation");
    }
}
