package dev.coffer.store.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backup session rules on a real datastore (RocksDB, chunk files, rename publish). */
final class BackupSessionTest {

    private static final int CS = 64 * 1024;
    private static final Instant T1 = Instant.parse("2026-11-22T10:00:00Z");
    private static final Instant T2 = Instant.parse("2026-11-22T11:00:00Z");
    private static final GroupId VM = GroupId.parse(null, "vm/101");

    @TempDir
    Path dir;
    private Datastore ds;
    private Catalog catalog;
    private SnapshotLocks locks;
    private BackupSessions sessions;
    private TestClient client;

    @BeforeEach
    void open() throws Exception {
        ds = Datastore.open("default", dir.resolve("ds"), DatastoreOptions.DEFAULT.withChunkSize(CS));
        catalog = new Catalog(ds.dir());
        locks = new SnapshotLocks();
        sessions = new BackupSessions(ds, catalog, locks, Duration.ofMinutes(5));
        client = new TestClient(Files.createDirectories(dir.resolve("work")), CS);
    }

    @AfterEach
    void close() throws Exception {
        sessions.abortAll();
        ds.close();
    }

    static byte[] image(long seed, int chunks) {
        byte[] b = new byte[chunks * CS - 1000]; // the last chunk is short
        new SplittableRandom(seed).nextBytes(b);
        if (chunks > 3) {
            java.util.Arrays.fill(b, 2 * CS, 3 * CS, (byte) 0); // one zero chunk
        }
        return b;
    }

    @Test
    void shouldPublishAFullThenAnIncrementalBackup() throws Exception {
        byte[] img = image(1, 8);
        SnapshotId first = client.backup(sessions, ds, "vm/101", T1, img);
        assertThat(catalog.snapshots(VM)).containsExactly(first);
        assertThat(ds.snapshotDir(first).resolve("manifest.json")).exists();
        assertThat(catalog.owner(VM)).isEqualTo("tok1");
        long chunkFiles = countChunkFiles();
        assertThat(chunkFiles).isEqualTo(7); // 8 chunks, one all-zero never stored

        img[5 * CS + 7] ^= 1; // the guest changes one byte
        SnapshotId second = client.backup(sessions, ds, "vm/101", T2, img);
        assertThat(catalog.snapshots(VM)).containsExactly(first, second);
        assertThat(countChunkFiles()).isEqualTo(8); // exactly one new chunk
        assertThat(catalog.manifest(second).parent()).contains(first);
        assertThat(locks.isHeld(first)).as("the base lease ends with the session").isFalse();
        assertThat(Files.list(ds.tmpDir())).isEmpty();
        // the published index names exactly the image's chunks
        try (FixedIndexReader r = FixedIndexReader.open(ds.snapshotDir(second).resolve("drive0.fidx"));
                ChunkCodec codec = ChunkCodec.create(null)) {
            for (long i = 0; i < r.chunkCount(); i++) {
                int off = (int) (i * CS);
                assertThat(r.digest(i)).isEqualTo(codec.digest(img, off, r.chunkLength(i)));
            }
        }
    }

    @Test
    void shouldTakeABaseOnlyUnderTheSameKeyAndSayWhenTheKeyChanged() throws Exception {
        BackupSession empty = sessions.begin(VM, T1, true, "aa:bb", "tok1", false);
        assertThat(empty.base()).isNull();
        assertThat(empty.noBaseReason()).as("an empty group has nothing to skip").isNull();
        empty.abort();
        sessions.forget(empty);

        SnapshotId plain = client.backup(sessions, ds, "vm/101", T1, image(3, 2));
        BackupSession same = sessions.begin(VM, T2, false, null, "tok1", false);
        assertThat(same.base()).isEqualTo(plain);
        assertThat(same.noBaseReason()).isNull();
        same.abort();
        sessions.forget(same);

        BackupSession encrypted = sessions.begin(VM, T2, true, "aa:bb", "tok1", false);
        assertThat(encrypted.base()).as("plain digests are no names under a key").isNull();
        assertThat(encrypted.noBaseReason()).isEqualTo("key-changed");
        assertThat(encrypted.baseBadDigests()).isEmpty();
        assertThat(locks.isHeld(plain)).as("a restore point that is no base is not locked").isFalse();
        encrypted.abort();
    }

    @Test
    void shouldRefuseToPublishWhenAChunkWasNeverUploaded() throws Exception {
        byte[] img = image(2, 4);
        BackupSession s = sessions.begin(VM, T1, false, null, "tok1", false);
        ManifestDisk d = client.uploadDisk(s, "drive0", img, null, true); // "forgets" every upload
        byte[] manifest = client.manifest(s, d);
        assertThatThrownBy(() -> s.finish(manifest)).isInstanceOf(StoreException.class)
                .hasMessageContaining("references chunk").hasMessageContaining("at offset 0")
                .extracting(e -> ((StoreException) e).code()).isEqualTo("missing-chunk");
        assertThat(catalog.snapshots(VM)).isEmpty();
        // the session stays open: upload what is missing and finish
        ManifestDisk again = client.uploadDisk(s, "drive0", img, null, false);
        assertThat(s.finish(client.manifest(s, again))).isEqualTo(SnapshotId.of(VM, T1));
    }

    @Test
    void shouldRefuseAManifestThatDoesNotMatchTheUploads() throws Exception {
        byte[] img = image(3, 3);
        BackupSession s = sessions.begin(VM, T1, false, null, "tok1", false);
        ManifestDisk d = client.uploadDisk(s, "drive0", img, null, false);
        ManifestDisk lying = new ManifestDisk("drive0", d.size() + 1, d.index(), d.mode(), d.reason(), null, d.statistics());
        assertThatThrownBy(() -> s.finish(client.manifest(s, lying))).isInstanceOf(StoreException.class)
                .extracting(e -> ((StoreException) e).code()).isEqualTo("manifest-mismatch");
        ManifestDisk wrongChecksum = new ManifestDisk("drive0", d.size(),
                new ManifestDisk.IndexRef(d.index().file(), d.index().size(), Digest.of(new byte[32])), d.mode(), d.reason(), null, d.statistics());
        assertThatThrownBy(() -> s.finish(client.manifest(s, wrongChecksum))).hasMessageContaining("differently");
        s.putBlob("domain.xml", "<domain/>".getBytes());
        assertThatThrownBy(() -> s.finish(client.manifest(s, d))).hasMessageContaining("does not list the uploaded file domain.xml");
        assertThatThrownBy(() -> s.finish(new byte[] {'{'})).isInstanceOf(StoreException.class)
                .extracting(e -> ((StoreException) e).code()).isEqualTo("bad-manifest");
        assertThat(catalog.snapshots(VM)).isEmpty();
    }

    @Test
    void shouldImportAnOlderRestorePointWithItsOriginalParentButNeverOverAnExistingOne() throws Exception {
        client.backup(sessions, ds, "vm/101", T2, image(5, 2));
        Instant t0 = T1.minusSeconds(3600);
        BackupSession s = sessions.begin(VM, T1, false, null, "tok1", false, true);
        assertThat(s.base()).as("an import has no base").isNull();
        ManifestDisk d = client.uploadDisk(s, "drive0", image(6, 3), null, false);
        // the parent is history from the origin store: it does not exist here, and that is fine
        byte[] manifest = dev.coffer.chunker.Manifest.builder().snapshot(s.snapshot()).parent(SnapshotId.of(VM, t0))
                .chunkSize(CS).addDisk(d).createdBy("test").sign(null).toBytes();
        assertThat(s.finish(manifest)).isEqualTo(SnapshotId.of(VM, T1));
        sessions.forget(s);
        assertThat(catalog.snapshots(VM)).containsExactly(SnapshotId.of(VM, T1), SnapshotId.of(VM, T2));
        assertThatThrownBy(() -> sessions.begin(VM, T1, false, null, "tok1", false, true))
                .extracting(e -> ((StoreException) e).code()).isEqualTo("snapshot-exists");
        // a backup session still checks the parent against its base
        BackupSession b = sessions.begin(VM, T2.plusSeconds(60), false, null, "tok1", false);
        ManifestDisk bd = client.uploadDisk(b, "drive0", image(7, 2), null, false);
        byte[] wrongParent = dev.coffer.chunker.Manifest.builder().snapshot(b.snapshot()).parent(SnapshotId.of(VM, t0))
                .chunkSize(CS).addDisk(bd).createdBy("test").sign(null).toBytes();
        assertThatThrownBy(() -> b.finish(wrongParent)).extracting(e -> ((StoreException) e).code()).isEqualTo("manifest-mismatch");
    }

    @Test
    void shouldAllowOneWriterPerGroupAndOnlyNewerTimes() throws Exception {
        client.backup(sessions, ds, "vm/101", T2, image(4, 2));
        assertThatThrownBy(() -> sessions.begin(VM, T1, false, null, "tok1", false))
                .extracting(e -> ((StoreException) e).code()).isEqualTo("not-newer");
        BackupSession s = sessions.begin(VM, T2.plusSeconds(60), false, null, "tok1", false);
        assertThatThrownBy(() -> sessions.begin(VM, T2.plusSeconds(120), false, null, "tok1", false))
                .isInstanceOf(StoreException.class).hasMessageContaining("being backed up by session " + s.id())
                .extracting(e -> ((StoreException) e).kind()).isEqualTo(StoreException.Kind.CONFLICT);
        assertThatThrownBy(() -> sessions.begin(GroupId.parse(null, "vm/101"), T2.plusSeconds(180), false, null, "tok2", false))
                .isInstanceOf(StoreException.class);
        s.abort();
        sessions.forget(s);
        assertThatThrownBy(() -> sessions.begin(VM, T2.plusSeconds(180), false, null, "tok2", false))
                .extracting(e -> ((StoreException) e).kind()).isEqualTo(StoreException.Kind.FORBIDDEN);
        sessions.begin(VM, T2.plusSeconds(180), false, null, "tok2", true).abort(); // an admin may
    }

    @Test
    void shouldExpireIdleSessionsAndReleaseTheirBase() throws Exception {
        SnapshotId first = client.backup(sessions, ds, "vm/101", T1, image(5, 2));
        BackupSessions quick = new BackupSessions(ds, catalog, locks, Duration.ZERO);
        BackupSession s = quick.begin(VM, T2, false, null, "tok1", false);
        s.uploadChunk(Digest.of(sha(new byte[] {1})), encode(new byte[] {1}), 1);
        assertThat(locks.isHeld(first)).isTrue();
        Thread.sleep(2);
        assertThat(quick.expireIdle()).isEqualTo(1);
        assertThat(locks.isHeld(first)).isFalse();
        assertThat(ds.tmpDir().resolve(s.id())).doesNotExist();
        assertThatThrownBy(() -> quick.get(s.id())).extracting(e -> ((StoreException) e).kind()).isEqualTo(StoreException.Kind.NOT_FOUND);
        assertThatThrownBy(() -> s.finish(new byte[0])).hasMessageContaining("has ended");
        List<byte[]> records = new java.util.ArrayList<>();
        ds.db().scan(DatastoreDb.Cf.SESSIONS, new byte[0], (k, v) -> records.add(k));
        assertThat(records).isEmpty();
    }

    @Test
    void shouldMakeTheNextBackupReuploadABadChunkOfItsBase() throws Exception {
        byte[] img = image(6, 4);
        SnapshotId first = client.backup(sessions, ds, "vm/101", T1, img);
        Digest victim;
        try (FixedIndexReader r = FixedIndexReader.open(ds.snapshotDir(first).resolve("drive0.fidx"))) {
            victim = r.digest(1);
        }
        assertThat(ds.inserter().markBad(victim)).isTrue();
        BackupSession s = sessions.begin(VM, T2, false, null, "tok1", false);
        assertThat(s.baseBadDigests()).containsExactly(victim);
        Path base = ds.snapshotDir(first).resolve("drive0.fidx");
        // a client that ignores the bad list and reuses the base position is refused
        ManifestDisk lazy = client.uploadDisk(s, "drive0", img, base, true);
        assertThatThrownBy(() -> s.finish(client.manifest(s, lazy))).hasMessageContaining(victim.hex());
        // one that uploads the bad chunk heals it
        ManifestDisk d = client.uploadDisk(s, "drive0", img, base, false);
        s.finish(client.manifest(s, d));
        assertThat(ds.badDigests()).isEmpty();
        assertThat(ds.db().getChunk(victim).bad()).isFalse();
        assertThat(ds.chunks().get(victim)).isNotNull();
    }

    @Test
    void shouldAnswerKnownChunksOnlyWithDatastoreScope() throws Exception {
        byte[] img = image(7, 3);
        client.backup(sessions, ds, "vm/101", T1, img);
        Digest present;
        try (ChunkCodec c = ChunkCodec.create(null)) {
            present = c.digest(img, 0, CS);
        }
        BackupSession s = sessions.begin(GroupId.parse(null, "vm/102"), T1, false, null, "tok1", false);
        assertThat(s.knownChunks(List.of(present))).containsExactly(false); // PBS's rule: no leaks across groups
        s.abort();
        ds.close();
        ds = Datastore.open("default", dir.resolve("ds"), DatastoreOptions.DEFAULT.withChunkSize(CS)
                .withDedupScope(DatastoreOptions.DedupScope.DATASTORE));
        BackupSessions scoped = new BackupSessions(ds, new Catalog(ds.dir()), locks, Duration.ofMinutes(5));
        BackupSession clone = scoped.begin(GroupId.parse(null, "vm/102"), T1, false, null, "tok1", false);
        assertThat(clone.knownChunks(List.of(present, Digest.of(new byte[32]), Digest.of(sha(new byte[] {9})))))
                .containsExactly(true, false, false);
        clone.abort();
    }

    @Test
    void shouldRecoverFromACrashBySweepingStagedWork() throws Exception {
        BackupSession s = sessions.begin(VM, T1, false, null, "tok1", false);
        s.putBlob("domain.xml", "<domain/>".getBytes());
        assertThat(ds.tmpDir().resolve(s.id()).resolve("domain.xml")).exists();
        // a new process starts: it knows no sessions and cleans up
        BackupSessions restarted = new BackupSessions(ds, catalog, new SnapshotLocks(), Duration.ofMinutes(5));
        restarted.recover();
        assertThat(Files.list(ds.tmpDir())).isEmpty();
        assertThat(catalog.snapshots(VM)).isEmpty();
    }

    private long countChunkFiles() throws Exception {
        long[] n = {0};
        ds.chunks().forEach(d -> n[0]++);
        return n[0];
    }

    private static byte[] sha(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] encode(byte[] b) {
        try (ChunkCodec c = ChunkCodec.create(null)) {
            return c.encode(b, 0, b.length);
        }
    }
}
