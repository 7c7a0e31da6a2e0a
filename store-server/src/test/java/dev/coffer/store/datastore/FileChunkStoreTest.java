package dev.coffer.store.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class FileChunkStoreTest extends ChunkStoreContract {

    @TempDir
    Path dir;
    /** Static: JUnit makes a new instance per test, and the level should differ between tests. */
    private static final java.util.concurrent.atomic.AtomicInteger N = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    ChunkStore newStore() throws Exception {
        // alternate levels so the contract holds at each; syncfs runs for real at FILESYSTEM
        int n = N.getAndIncrement();
        SyncLevel level = SyncLevel.values()[n % SyncLevel.values().length];
        return new FileChunkStore(dir.resolve("chunks" + n), level);
    }

    @Test
    void shouldLayOutChunksByPrefixAndLeaveNoTempFiles() throws Exception {
        FileChunkStore s = new FileChunkStore(dir.resolve("chunks"), SyncLevel.FILE);
        s.put(digest(1), blob(1, 10));
        String hex = digest(1).hex();
        assertThat(s.path(digest(1))).isEqualTo(dir.resolve("chunks").resolve(hex.substring(0, 4)).resolve(hex));
        assertThat(Files.readAllBytes(s.path(digest(1)))).isEqualTo(blob(1, 10));
        try (Stream<Path> all = Files.walk(dir.resolve("chunks"))) {
            assertThat(all.filter(Files::isRegularFile)).containsExactly(s.path(digest(1)));
        }
    }

    @Test
    void shouldKeepQuarantinedBlobAsBadFile() throws Exception {
        FileChunkStore s = new FileChunkStore(dir.resolve("chunks"), SyncLevel.NONE);
        s.put(digest(2), blob(2, 10));
        s.quarantine(digest(2));
        Path bad = s.path(digest(2)).resolveSibling(digest(2).hex() + ".bad");
        assertThat(bad).exists().hasBinaryContent(blob(2, 10));
    }

    @Test
    void shouldIgnoreStrangersWhenListing() throws Exception {
        FileChunkStore s = new FileChunkStore(dir.resolve("chunks"), SyncLevel.NONE);
        s.put(digest(3), blob(3, 10));
        Path prefix = s.path(digest(3)).getParent();
        Files.writeString(prefix.resolve(".x.tmp-1"), "partial");
        Files.writeString(prefix.resolve("README"), "hello");
        Files.writeString(dir.resolve("chunks").resolve("notes.txt"), "x");
        java.util.List<dev.coffer.chunker.Digest> seen = new java.util.ArrayList<>();
        s.forEach(seen::add);
        assertThat(seen).containsExactly(digest(3));
    }

    @Test
    void shouldSyncTheFilesystem() throws Exception {
        FileChunkStore s = new FileChunkStore(dir.resolve("chunks"), SyncLevel.FILESYSTEM);
        s.put(digest(4), blob(4, 10));
        s.sync(); // a real syncfs(2) through FFM; it throws with errno if the call fails
        assertThat(s.get(digest(4))).isEqualTo(blob(4, 10));
    }

    @Test
    void shouldReportSyncfsErrorsWithThePath() {
        Path missing = dir.resolve("gone");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.coffer.chunker.LinuxIo.syncfs(missing))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining(missing.toString())
                .hasMessageContaining("errno 2");
    }
}
