package dev.coffer.store.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
    void shouldWriteBlobsOfEveryLengthPastThePageCache() throws Exception {
        assumeTrue(!"tmpfs".equals(Files.getFileStore(dir).type()), "the test directory must be on a disk filesystem");
        FileChunkStore s = new FileChunkStore(dir.resolve("chunks"), SyncLevel.FILE);
        assertThat(s.writesDirect()).isTrue();
        int i = 10;
        for (int length : new int[] {1, 4095, 4096, 4097, (1 << 20) + 3, 1 << 22}) {
            byte[] b = blob(i, length);
            s.put(digest(i), b);
            assertThat(Files.size(s.path(digest(i)))).as("length %d", length).isEqualTo(length); // the padding is cut off
            assertThat(s.get(digest(i))).isEqualTo(b);
            i++;
        }
        s.put(digest(10), blob(99, 5000)); // a shorter blob may not keep the longer one's tail
        assertThat(s.get(digest(10))).isEqualTo(blob(99, 5000));
    }

    @Test
    void shouldRemoveThePartialFilesADeadProcessLeft() throws Exception {
        FileChunkStore s = new FileChunkStore(dir.resolve("chunks"), SyncLevel.NONE);
        s.put(digest(5), blob(5, 10));
        Path partial = dir.resolve("chunks").resolve(FileChunkStore.PARTIAL_DIR);
        Files.write(partial.resolve(digest(6).hex() + ".1f2e"), blob(6, 7000)); // as a killed upload leaves it
        Files.write(partial.resolve(digest(7).hex() + ".3c4d"), new byte[0]);
        assertThat(s.removePartials()).isEqualTo(2);
        try (Stream<Path> left = Files.list(partial)) {
            assertThat(left).isEmpty();
        }
        assertThat(s.get(digest(5))).isEqualTo(blob(5, 10));
        assertThat(s.get(digest(6))).isNull();
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
