package dev.coffer.agent.nbd;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static dev.coffer.agent.nbd.NbdServerProcess.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full BLOCK_STATUS walk over a disk with a quarter of a million extents (nbdkit's sparse-random
 * plugin, alternating 4 KiB data and holes over 1 GiB), compared extent by extent with what
 * libnbd's {@code nbdinfo --map} reports for the same export. The count is twice what QEMU sends in
 * one reply, so the walk's windowing and merging have real work to do.
 */
final class NbdBlockStatusWalkTest {

    @TempDir
    static Path dir;

    private static NbdServerProcess server;
    private static NbdUri uri;

    @BeforeAll
    static void startNbdkit() throws Exception {
        Path socket = dir.resolve("sparse.sock");
        server = NbdServerProcess.onSocket(dir, "nbdkit-sparse", socket, cmd("nbdkit", "--foreground",
                "--exit-with-parent", "--unix=" + socket, "sparse-random", "size=1G", "percent=50", "runlength=4096",
                "seed=1"));
        uri = NbdUri.unix(socket, "");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void shouldMatchNbdinfoExtentForExtent() throws Exception {
        List<Extent> libnbd = new ArrayList<>();
        for (JsonNode e : new ObjectMapper().readTree(run("nbdinfo", "--map=base:allocation", "--json", uri.toString()))) {
            libnbd.add(new Extent(e.get("offset").asLong(), e.get("length").asLong(), e.get("type").asInt()));
        }
        long t0 = System.nanoTime();
        List<Extent> ours;
        try (NbdClient client = NbdClient.connect(uri)) {
            ours = client.blockStatus(0, client.info().size()).of(BlockStatus.BASE_ALLOCATION);
        }
        System.out.printf("NbdBlockStatusWalkTest: %d extents walked in %.0f ms%n", ours.size(),
                (System.nanoTime() - t0) / 1e6);
        assertThat(ours.size()).isGreaterThan(131072);
        assertThat(ours).isEqualTo(libnbd);
    }
}
