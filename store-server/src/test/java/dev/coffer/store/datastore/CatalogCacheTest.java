package dev.coffer.store.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.chunker.SnapshotId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog cache follows the directories, whatever happened to it. */
final class CatalogCacheTest {

    @TempDir
    Path dir;

    @Test
    void shouldRebuildFromTheDirectoriesAndFollowChanges() throws Exception {
        Path dsDir = dir.resolve("ds");
        SnapshotId a;
        SnapshotId b;
        try (DatastoreService svc = DatastoreService.open("default", dsDir, DatastoreOptions.DEFAULT.withChunkSize(65536)
                .withSyncLevel(SyncLevel.NONE), Duration.ofMinutes(1))) {
            TestClient client = new TestClient(Files.createDirectories(dir.resolve("work")), 65536);
            a = client.backup(svc.backups(), svc.datastore(), "vm/1", Instant.parse("2026-11-22T10:00:00Z"), BackupSessionTest.image(1, 3));
            b = client.backup(svc.backups(), svc.datastore(), "vm/2", Instant.parse("2026-11-22T10:00:00Z"), BackupSessionTest.image(2, 2));
            CatalogCache.Entry e = svc.cache().get(a);
            assertThat(e.disks()).containsExactly("drive0");
            assertThat(e.sizes()).containsExactly(3 * 65536 - 1000);
            assertThat(e.encrypted()).isFalse();
            assertThat(e.verify()).isEqualTo("none");
            svc.protect(a, true);
            assertThat(svc.cache().get(a).isProtected()).isTrue();
            // the cache is wiped (an index restored from an old copy, say) and a restore point vanishes out of band
            svc.datastore().db().deleteRange(DatastoreDb.Cf.CATALOG, new byte[0], new byte[] {(byte) 0xff});
        }
        BackupSession.deleteTree(dsDir.resolve(b.relativePath()));
        try (DatastoreService svc = DatastoreService.open("default", dsDir, DatastoreOptions.DEFAULT.withChunkSize(65536)
                .withSyncLevel(SyncLevel.NONE), Duration.ofMinutes(1))) {
            java.util.List<String> keys = new java.util.ArrayList<>();
            svc.datastore().db().scan(DatastoreDb.Cf.CATALOG, new byte[0], (k, v) -> keys.add(new String(k, StandardCharsets.UTF_8)));
            assertThat(keys).containsExactly(a.path());
            assertThat(svc.cache().get(a).isProtected()).isTrue();
            svc.protect(a, false);
            svc.delete(a);
            assertThat(svc.cache().sync()).isZero();
            keys.clear();
            svc.datastore().db().scan(DatastoreDb.Cf.CATALOG, new byte[0], (k, v) -> keys.add(new String(k, StandardCharsets.UTF_8)));
            assertThat(keys).isEmpty();
        }
    }
}
