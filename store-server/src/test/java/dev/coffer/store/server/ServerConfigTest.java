package dev.coffer.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.datastore.DatastoreOptions;
import dev.coffer.store.datastore.SyncLevel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ServerConfigTest {

    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("coffer.yaml"), yaml);
    }

    @Test
    void shouldReadEverySetting() throws Exception {
        ServerConfig.Parsed p = ServerConfig.read(write("""
                listen: 127.0.0.1:9007
                state: state
                session-lease: 60
                tls:
                  names: [backup.example.com, 10.0.0.5]
                datastores:
                  default:
                    path: /srv/coffer/default
                  small:
                    path: small
                    chunk-size: 1048576
                    sync-level: file
                    dedup-scope: datastore
                    block-cache: 134217728
                """));
        assertThat(p.listen()).isEqualTo("127.0.0.1:9007");
        assertThat(p.state()).isEqualTo(dir.resolve("state"));
        assertThat(p.sessionLease()).isEqualTo(60);
        assertThat(p.tlsNames()).containsExactly("backup.example.com", "10.0.0.5");
        assertThat(p.tlsCert()).isNull();
        assertThat(p.datastores().keySet()).containsExactly("default", "small");
        assertThat(p.datastores().get("default").dir()).isEqualTo(Path.of("/srv/coffer/default"));
        assertThat(p.datastores().get("default").options()).isEqualTo(DatastoreOptions.DEFAULT);
        DatastoreOptions small = p.datastores().get("small").options();
        assertThat(p.datastores().get("small").dir()).isEqualTo(dir.resolve("small"));
        assertThat(small.chunkSize()).isEqualTo(1 << 20);
        assertThat(small.syncLevel()).isEqualTo(SyncLevel.FILE);
        assertThat(small.dedupScope()).isEqualTo(DatastoreOptions.DedupScope.DATASTORE);
        assertThat(small.blockCacheBytes()).isEqualTo(128L << 20);
    }

    @Test
    void shouldRejectUnknownKeysByName() throws Exception {
        Path f = write("""
                datastores:
                  default:
                    path: x
                    sync-levl: file
                """);
        assertThatThrownBy(() -> ServerConfig.read(f)).isInstanceOf(IOException.class)
                .hasMessageContaining("config file " + f).hasMessageContaining("unknown key 'datastores.default.sync-levl'");
        Path g = write("listn: 1\n");
        assertThatThrownBy(() -> ServerConfig.read(g)).hasMessageContaining("unknown key 'listn'");
    }

    @Test
    void shouldRejectBadValuesWithTheirReason() throws Exception {
        assertThatThrownBy(() -> ServerConfig.read(write("datastores:\n  d:\n    path: x\n    chunk-size: 3000\n")))
                .hasMessageContaining("datastore 'd'").hasMessageContaining("power of two");
        assertThatThrownBy(() -> ServerConfig.read(write("datastores:\n  d:\n    sync-level: file\n")))
                .hasMessageContaining("datastores.d.path is required");
        assertThatThrownBy(() -> ServerConfig.read(write("datastores:\n  ../x:\n    path: x\n")))
                .hasMessageContaining("datastore name");
        assertThatThrownBy(() -> ServerConfig.read(write("tls:\n  cert: a.pem\n")))
                .hasMessageContaining("tls.cert and tls.key go together");
        assertThatThrownBy(() -> ServerConfig.read(write("datastores: [\n")))
                .hasMessageContaining("is not valid YAML");
        assertThatThrownBy(() -> ServerConfig.read(write("session-lease: soon\n")))
                .hasMessageContaining("'session-lease' must be a whole number");
    }
}
