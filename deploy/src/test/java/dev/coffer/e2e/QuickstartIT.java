package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, {@code coffer quickstart}, as a user runs it: with QEMU installed
 * (the test machine has it) the demo disk runs in a qemu-storage-daemon and is backed up live over
 * QMP; a second run starts from the checkpoint the first one left in the qcow2, so even its first
 * backup is incremental. {@code --no-qemu} takes the image-file path.
 */
final class QuickstartIT {

    @TempDir
    static Path work;

    @Test
    void quickstartBacksUpALiveQemuDiskAndTheNextRunIsIncrementalFromTheStart() throws Exception {
        String dir = work.resolve("qs").toString();
        JsonNode first = ok(Map.of(), "quickstart", "--dir", dir, "--json").json();
        assertThat(first.get("qemu").asBoolean()).as("QEMU is installed on the test machine").isTrue();
        assertThat(first.get("restore_verified").asBoolean()).isTrue();
        assertThat(first.at("/full/disks/0/name").asText()).isEqualTo("vda");
        assertThat(first.at("/full/disks/0/mode").asText()).isEqualTo("full");
        assertThat(first.at("/incremental/disks/0/mode").asText()).isEqualTo("incremental");
        assertThat(first.at("/incremental/disks/0/read_bytes").asLong() - first.at("/incremental/disks/0/sampled_bytes").asLong())
                .as("three 64 KiB guest writes dirty three 1 MiB chunks (the default chunk size)").isEqualTo(3L << 20);

        JsonNode again = ok(Map.of(), "quickstart", "--dir", dir, "--json").json();
        assertThat(again.get("restore_verified").asBoolean()).isTrue();
        assertThat(again.at("/full/disks/0/mode").asText()).as("the checkpoint survived the daemon's quit").isEqualTo("incremental");
    }

    @Test
    void withoutQemuTheDemoDiskIsAnImageFile() throws Exception {
        JsonNode r = ok(Map.of(), "quickstart", "--dir", work.resolve("plain").toString(), "--no-qemu", "--json").json();
        assertThat(r.get("qemu").asBoolean()).isFalse();
        assertThat(r.get("restore_verified").asBoolean()).isTrue();
        assertThat(r.at("/full/disks/0/name").asText()).isEqualTo("drive0");
        assertThat(r.at("/incremental/disks/0/mode").asText()).isEqualTo("diff");
    }
}
