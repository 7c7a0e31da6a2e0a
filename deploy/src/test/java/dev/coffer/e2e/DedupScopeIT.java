package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --dedup-scope datastore}: a clone's first backup uploads only what the datastore lacks. */
final class DedupScopeIT {

    @TempDir
    Path work;

    @Test
    void shouldSkipUploadsOfChunksAnyGroupStored() throws Exception {
        try (CofferProcess.Server server = CofferProcess.server(work, "--datastore", work.resolve("ds").toString(),
                "--chunk-size", "65536", "--dedup-scope", "datastore")) {
            Map<String, String> env = server.env(server.start.get("token").asText());
            Path template = Images.sparse(work.resolve("t.img"), 4L << 20, 9, 0, 4 << 20);
            ok(env, "backup", "vm/1", "--source", "file:" + template);
            Images.scribble(template, 1 << 20, 100, 10); // the clone differs in one chunk
            JsonNode clone = ok(env, "backup", "vm/2", "--source", "file:" + template, "--json").json();
            JsonNode d = clone.get("disks").get(0);
            assertThat(d.get("mode").asText()).isEqualTo("full");
            assertThat(d.get("uploaded_chunks").asLong()).isEqualTo(1);
            assertThat(d.get("reused_bytes").asLong()).isEqualTo(63L * 65536);
            Path out = work.resolve("clone.out");
            ok(env, "restore", clone.get("snapshot").asText(), "--to", "file:" + out);
            assertThat(Images.sha256(out)).isEqualTo(Images.sha256(template));
        }
    }
}
