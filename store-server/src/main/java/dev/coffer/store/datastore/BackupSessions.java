package dev.coffer.store.datastore;

import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Opens, finds and expires the backup sessions of one datastore.
 *
 * <p>One writer per group: a second backup of a group that is being written is refused (409)
 * rather than queued, because two backups of one VM at once are always a scheduling mistake. A
 * session is a lease (safety rule 3): every call renews it, and one idle longer than the lease
 * time is aborted by {@link #expireIdle}, publishing nothing and releasing its base. After a crash
 * {@link #recover} removes every staged file and session record, since no session survives its
 * server process.
 */
public final class BackupSessions {

    private final Datastore ds;
    private final Catalog catalog;
    private final SnapshotLocks locks;
    private final Duration lease;
    private final Map<String, BackupSession> byId = new HashMap<>();
    private final Map<GroupId, BackupSession> byGroup = new HashMap<>();
    private final SecureRandom random = new SecureRandom();

    public BackupSessions(Datastore ds, Catalog catalog, SnapshotLocks locks, Duration lease) {
        this.ds = ds;
        this.catalog = catalog;
        this.locks = locks;
        this.lease = lease;
    }

    /** How long a session lives without a request. */
    public Duration lease() {
        return lease;
    }

    /** Removes what sessions of an earlier, crashed process left behind. */
    public void recover() throws IOException {
        BackupSession.deleteTree(ds.tmpDir());
        java.nio.file.Files.createDirectories(ds.tmpDir());
        ds.db().deleteRange(DatastoreDb.Cf.SESSIONS, new byte[] {0}, new byte[] {(byte) 0xff});
    }

    /**
     * Opens a session writing restore point {@code time} of {@code group}.
     *
     * @param owner the token id that will own a new group
     * @param mayWriteAnyGroup true for admins, who may write groups owned by others
     * @throws StoreException CONFLICT when the group is being written or the time is not newer than
     *     its newest restore point; FORBIDDEN when the group belongs to another token
     */
    public BackupSession begin(GroupId group, Instant time, boolean encrypted, String keyFingerprint, String owner,
            boolean mayWriteAnyGroup) throws IOException, StoreException {
        return begin(group, time, encrypted, keyFingerprint, owner, mayWriteAnyGroup, false);
    }

    /**
     * Opens a session; with {@code importing} it writes a restore point brought in from an archive
     * ({@code coffer import}). Such a restore point keeps its original time, which may be older
     * than the group's newest (as sync may bring in older ones) but must not exist yet; the session
     * has no base, so every chunk it references must be uploaded (or answered known) in it, and
     * {@link BackupSession#finish} takes the manifest's parent as history instead of checking it
     * against a base. Every other check and the atomic publish are those of a backup.
     *
     * @throws StoreException CONFLICT {@code snapshot-exists} when importing a restore point the group holds
     */
    public BackupSession begin(GroupId group, Instant time, boolean encrypted, String keyFingerprint, String owner,
            boolean mayWriteAnyGroup, boolean importing) throws IOException, StoreException {
        SnapshotId snapshot = SnapshotId.of(group, time);
        synchronized (this) {
            BackupSession running = byGroup.get(group);
            if (running != null) {
                throw StoreException.conflict("group-busy", "group " + group + " is being backed up by session " + running.id()
                        + "; one backup per group at a time");
            }
            String groupOwner = catalog.owner(group);
            if (groupOwner != null && !groupOwner.equals(owner) && !mayWriteAnyGroup) {
                throw new StoreException(StoreException.Kind.FORBIDDEN, "not-owner",
                        "group " + group + " belongs to another token; an admin can change its owner");
            }
            Optional<SnapshotId> newest = importing ? Optional.empty() : catalog.newest(group);
            if (importing && catalog.exists(snapshot)) {
                throw StoreException.conflict("snapshot-exists", "restore point " + snapshot + " already exists");
            }
            if (newest.isPresent() && !time.isAfter(newest.get().time())) {
                throw StoreException.conflict("not-newer", "restore point " + snapshot + " is not newer than the group's newest, "
                        + newest.get());
            }
            SnapshotId base = null;
            Manifest baseManifest = null;
            String noBaseReason = null;
            if (newest.isPresent()) {
                Manifest m = catalog.manifest(newest.get());
                // digests under another key (or none) are different names: nothing to reuse
                if (m.encrypted() == encrypted && (!encrypted || m.keyFingerprint().equals(Optional.ofNullable(keyFingerprint)))) {
                    base = newest.get();
                    baseManifest = m;
                } else {
                    noBaseReason = "key-changed";
                }
            }
            SnapshotLocks.Lease baseLease = base == null ? null : locks.share(base);
            String id = HexFormat.of().formatHex(randomBytes(16));
            BackupSession s;
            try {
                Set<Digest> bad = base == null ? Set.of() : badDigests(base, baseManifest);
                s = new BackupSession(id, ds, catalog, snapshot, base, baseManifest, bad, encrypted, owner, baseLease, importing,
                        noBaseReason);
                ds.db().put(DatastoreDb.Cf.SESSIONS, s.recordKey(),
                        (snapshot + " " + Instant.now()).getBytes(StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                if (baseLease != null) {
                    baseLease.close();
                }
                throw e;
            }
            byId.put(id, s);
            byGroup.put(group, s);
            return s;
        }
    }

    /**
     * The open session {@code id}, its lease renewed.
     *
     * @throws StoreException NOT_FOUND for an unknown, finished or expired session
     */
    public synchronized BackupSession get(String id) throws StoreException {
        BackupSession s = byId.get(id);
        if (s == null || s.isClosed()) {
            forget(s);
            throw StoreException.notFound("no-such-session", "backup session " + id + " does not exist or has expired");
        }
        s.touch();
        return s;
    }

    /** Drops a finished or aborted session from the tables. */
    public synchronized void forget(BackupSession s) {
        if (s != null && s.isClosed()) {
            byId.remove(s.id());
            byGroup.remove(s.snapshot().group(), s);
        }
    }

    /** Aborts every session idle longer than the lease; returns how many. */
    public int expireIdle() throws IOException {
        List<BackupSession> idle = new ArrayList<>();
        synchronized (this) {
            for (BackupSession s : byId.values()) {
                if (s.idleNanos() > lease.toNanos()) {
                    idle.add(s);
                }
            }
        }
        for (BackupSession s : idle) {
            s.abort();
            forget(s);
        }
        return idle.size();
    }

    /** Aborts every open session (server shutdown). */
    public void abortAll() throws IOException {
        List<BackupSession> all;
        synchronized (this) {
            all = new ArrayList<>(byId.values());
        }
        for (BackupSession s : all) {
            s.abort();
            forget(s);
        }
    }

    public synchronized int openCount() {
        return byId.size();
    }

    /**
     * The digests of {@code base} flagged bad (rule 6). Bad chunks are few, so their set is small;
     * the base's indexes are streamed against it.
     */
    private Set<Digest> badDigests(SnapshotId base, Manifest m) throws IOException {
        Set<Digest> flagged = ds.badDigests();
        if (flagged.isEmpty()) {
            return Set.of();
        }
        Set<Digest> out = new HashSet<>();
        for (ManifestDisk d : m.disks()) {
            try (FixedIndexReader r = FixedIndexReader.open(catalog.dir(base).resolve(d.index().file()))) {
                r.forEach((i, digest) -> {
                    if (flagged.contains(digest)) {
                        out.add(digest);
                    }
                });
            }
        }
        return out;
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
