package dev.coffer.store.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class DatastoreTest {

    @TempDir
    Path dir;

    @Test
    void shouldCreateOnceAndKeepItsUuid() throws Exception {
        Path ds = dir.resolve("store");
        UUID uuid;
        try (Datastore d = Datastore.open("default", ds, DatastoreOptions.DEFAULT)) {
            uuid = d.uuid();
            assertThat(d.gcEpoch()).isZero();
            assertThat(ds.resolve(".coffer/datastore.json")).exists();
            assertThat(ds.resolve("chunks")).isDirectory();
            assertThat(d.tmpDir()).isDirectory();
            d.syncForPublish(); // syncfs + synced WAL flush, for real
        }
        try (Datastore d = Datastore.open("default", ds, DatastoreOptions.DEFAULT)) {
            assertThat(d.uuid()).isEqualTo(uuid);
        }
        assertThat(Datastore.existingChunkSize(ds)).isEqualTo(1 << 20);
        assertThat(Datastore.existingChunkSize(dir.resolve("none"))).isEqualTo(-1);
    }

    @Test
    void shouldRefuseToChangeTheChunkSize() throws Exception {
        Path ds = dir.resolve("store");
        Datastore.open("default", ds, DatastoreOptions.DEFAULT.withChunkSize(4 << 20)).close();
        assertThatThrownBy(() -> Datastore.open("default", ds, DatastoreOptions.DEFAULT))
                .isInstanceOf(IOException.class).hasMessageContaining("created with chunk size 4194304");
    }

    @Test
    void shouldRefuseADirectoryHoldingSomethingElse() throws Exception {
        Path ds = Files.createDirectories(dir.resolve("home"));
        Files.writeString(ds.resolve("thesis.tex"), "precious");
        assertThatThrownBy(() -> Datastore.open("default", ds, DatastoreOptions.DEFAULT))
                .isInstanceOf(IOException.class).hasMessageContaining("not empty and holds no datastore");
        assertThat(ds.resolve("thesis.tex")).hasContent("precious");
        assertThat(ds.resolve(".coffer")).doesNotExist();
    }

    @Test
    void shouldRejectADamagedDescription() throws Exception {
        Path ds = dir.resolve("store");
        Datastore.open("default", ds, DatastoreOptions.DEFAULT).close();
        Path meta = ds.resolve(".coffer/datastore.json");
        Files.writeString(meta, "{\"format\":\"coffer-datastore-v1\",\"uuid\":\"nope\",\"chunk_size\":1048576}");
        assertThatThrownBy(() -> Datastore.open("default", ds, DatastoreOptions.DEFAULT))
                .isInstanceOf(IOException.class).hasMessageContaining("no valid uuid");
        Files.writeString(meta, "{truncated");
        assertThatThrownBy(() -> Datastore.open("default", ds, DatastoreOptions.DEFAULT))
                .isInstanceOf(IOException.class).hasMessageContaining("is damaged");
    }

    @Test
    void shouldValidateOptions() {
        assertThatThrownBy(() -> DatastoreOptions.DEFAULT.withChunkSize(3 << 20)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> DatastoreOptions.DEFAULT.withChunkSize(32 << 10)).hasMessageContaining("64 KiB");
        assertThat(DatastoreOptions.DedupScope.parse("datastore")).isEqualTo(DatastoreOptions.DedupScope.DATASTORE);
        assertThat(SyncLevel.parse("file")).isEqualTo(SyncLevel.FILE);
        assertThatThrownBy(() -> SyncLevel.parse("always")).hasMessageContaining("file, filesystem, none");
    }
}
