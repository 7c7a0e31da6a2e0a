package dev.coffer.agent.restore;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static dev.coffer.agent.nbd.NbdServerProcess.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.agent.nbd.NbdServerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The live restore's qcow2 against real qemu-img and a real qemu-nbd standing in for the served restore point. */
final class LiveImageTest {

    @TempDir
    Path dir;

    @Test
    void shouldNameTheExportAsRawOverNbdWithAReconnectDelay() throws Exception {
        String b = LiveImage.backing(Path.of("/run/x.sock"), "vda");
        assertThat(b).startsWith("json:");
        JsonNode j = new ObjectMapper().readTree(b.substring(5));
        assertThat(j.get("driver").asText()).isEqualTo("raw");
        JsonNode nbd = j.get("file");
        assertThat(nbd.get("driver").asText()).isEqualTo("nbd");
        assertThat(nbd.get("server").get("type").asText()).isEqualTo("unix");
        assertThat(nbd.get("server").get("path").asText()).isEqualTo("/run/x.sock");
        assertThat(nbd.get("export").asText()).isEqualTo("vda");
        assertThat(nbd.get("reconnect-delay").asInt()).isEqualTo(LiveImage.RECONNECT_DELAY_S).isPositive();
    }

    @Test
    void shouldCreateAQcow2ThatReadsTheExportThroughItsBacking() throws Exception {
        long size = 4 << 20;
        byte[] data = new byte[(int) size];
        new Random(3).nextBytes(data);
        Path raw = Files.write(dir.resolve("disk.raw"), data);
        Path socket = dir.resolve("src.sock");
        try (NbdServerProcess nbd = NbdServerProcess.onSocket(dir, "qemu-nbd", socket, cmd("qemu-nbd", "--read-only",
                "--format=raw", "--export-name=vda", "--shared=4", "--persistent", "--socket=" + socket, raw.toString()))) {
            Path image = dir.resolve("new.qcow2");
            String backing = LiveImage.backing(socket, "vda");
            LiveImage.create(image, size, backing);

            LiveImage.Info info = LiveImage.info(image);
            assertThat(info.format()).isEqualTo("qcow2");
            assertThat(info.backing()).isEqualTo(backing);
            assertThat(info.virtualSize()).isEqualTo(size);
            assertThat(run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", image.toString(), raw.toString()))
                    .contains("identical");
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString())).as("no temporary file left").noneMatch(n -> n.endsWith(".tmp"));
            }
        }
    }

    @Test
    void shouldLeaveNothingWhenTheExportCannotBeReached() {
        Path image = dir.resolve("new.qcow2");
        assertThatThrownBy(() -> LiveImage.create(image, 1 << 20, LiveImage.backing(dir.resolve("nobody.sock"), "vda")))
                .isInstanceOf(IOException.class).hasMessageContaining("qemu-img create failed");
        assertThat(image).doesNotExist();
        assertThat(dir.resolve(".new.qcow2.tmp")).doesNotExist();
    }
}
