package dev.coffer.store.datastore;

import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FormatException;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.ManifestFile;
import dev.coffer.chunker.Names;
import dev.coffer.chunker.SnapshotId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One backup in progress: the writer of one new restore point of one group.
 *
 * <p>Everything it receives is checked on arrival (chunks by {@link ChunkInserter}, indexes by
 * {@link FixedIndexReader}) and staged in {@code .coffer/tmp/<session>/}. {@link #finish} checks the
 * client's manifest against what was staged and proves that every digest every index references is
 * zero, unchanged from the base at the same position, or was uploaded (or, with
 * {@code dedup-scope: datastore}, confirmed present) in this session — the known set of safety
 * rule 4, looked up in index files and RocksDB, never held in memory. Only then is the restore
 * point published, in the order of safety rule 1. Anything else leaves no trace but the staged
 * files, which {@link #abort} or the next start removes.
 */
public final class BackupSession {

    private final String id;
    private final byte[] idBytes;
    private final Datastore ds;
    private final Catalog catalog;
    private final SnapshotId snapshot;
    private final SnapshotId base;
    private final Manifest baseManifest;
    private final Set<Digest> baseBad;
    private final boolean encrypted;
    private final String owner;
    private final Path staging;
    private final SnapshotLocks.Lease baseLease;
    private final boolean importing;
    private final String noBaseReason;
    private final Map<String, Path> staged = new ConcurrentHashMap<>();
    private volatile long lastSeen = System.nanoTime();
    private volatile boolean closed;

    BackupSession(String id, Datastore ds, Catalog catalog, SnapshotId snapshot, SnapshotId base, Manifest baseManifest,
            Set<Digest> baseBad, boolean encrypted, String owner, SnapshotLocks.Lease baseLease, boolean importing,
            String noBaseReason) throws IOException {
        this.importing = importing;
        this.noBaseReason = noBaseReason;
        this.id = id;
        this.idBytes = HexFormat.of().parseHex(id);
        this.ds = ds;
        this.catalog = catalog;
        this.snapshot = snapshot;
        this.base = base;
        this.baseManifest = baseManifest;
        this.baseBad = Set.copyOf(baseBad);
        this.encrypted = encrypted;
        this.owner = owner;
        this.baseLease = baseLease;
        this.staging = Files.createDirectories(ds.tmpDir().resolve(id));
    }

    public String id() {
        return id;
    }

    public SnapshotId snapshot() {
        return snapshot;
    }

    /** The restore point this backup may reuse digests from, or null. */
    public SnapshotId base() {
        return base;
    }

    /**
     * Why the group's newest restore point is not the base although there is one: {@code
     * key-changed} when it was written under another key or crypt mode (its digests name other
     * chunks); null when there is a base or the group is empty.
     */
    public String noBaseReason() {
        return noBaseReason;
    }

    public Manifest baseManifest() {
        return baseManifest;
    }

    /** Digests of the base that verify found bad: the client must read and upload them. */
    public Set<Digest> baseBadDigests() {
        return baseBad;
    }

    public boolean encrypted() {
        return encrypted;
    }

    public String owner() {
        return owner;
    }

    /** Renews the lease. */
    void touch() {
        lastSeen = System.nanoTime();
    }

    long idleNanos() {
        return System.nanoTime() - lastSeen;
    }

    boolean isClosed() {
        return closed;
    }

    private void checkOpen() throws StoreException {
        if (closed) {
            throw StoreException.notFound("no-such-session", "backup session " + id + " has ended");
        }
        touch();
    }

    /**
     * Checks and stores one chunk, and adds it to this session's known set.
     *
     * @throws FormatException when the upload is damaged or not the chunk its digest names
     */
    public ChunkInserter.Outcome uploadChunk(Digest digest, byte[] blob, int plainLength) throws IOException, StoreException {
        checkOpen();
        if (plainLength <= 0 || plainLength > ds.options().chunkSize()) {
            throw StoreException.badRequest("bad-chunk-size", "chunk size " + plainLength + " is outside 1.." + ds.options().chunkSize());
        }
        ChunkInserter.Outcome outcome = ds.inserter().insert(digest, blob, plainLength, encrypted, ds.gcEpoch());
        ds.db().put(DatastoreDb.Cf.SESSIONS, key('u', digest), new byte[0]);
        return outcome;
    }

    /**
     * With {@code dedup-scope: datastore}, answers which of {@code digests} the datastore holds in good
     * condition, touching each (so a running GC keeps it) and adding it to the known set. With the
     * default scope it answers none: a session may reuse only its base's chunks (rule 4).
     */
    public List<Boolean> knownChunks(List<Digest> digests) throws IOException, StoreException {
        checkOpen();
        boolean scopeDatastore = ds.options().dedupScope() == DatastoreOptions.DedupScope.DATASTORE;
        long epoch = ds.gcEpoch();
        java.util.ArrayList<Boolean> out = new java.util.ArrayList<>(digests.size());
        for (Digest d : digests) {
            boolean known = false;
            if (scopeDatastore && !d.isZero()) {
                ChunkMeta m = ds.inserter().touch(d, epoch);
                // a plaintext session trusts only verified blobs: an unverifiable one might be a forgery
                known = m != null && (encrypted ? m.encrypted() : m.verified());
                if (known) {
                    ds.db().put(DatastoreDb.Cf.SESSIONS, key('k', d), new byte[0]);
                }
            }
            out.add(known);
        }
        return out;
    }

    /**
     * Takes an uploaded fixed index (already written to {@code uploaded}) into the staging area,
     * after checking that it is a whole, valid index with this datastore's chunk size.
     */
    public void putIndex(String file, Path uploaded) throws IOException, StoreException {
        checkOpen();
        String name = stagedName(file);
        if (!name.endsWith(".fidx")) {
            throw StoreException.badRequest("bad-name", "index file name '" + name + "' must end in .fidx");
        }
        try (FixedIndexReader r = FixedIndexReader.open(uploaded)) {
            if (r.chunkSize() != ds.options().chunkSize()) {
                throw StoreException.badRequest("bad-chunk-size", "index " + name + " uses chunk size " + r.chunkSize()
                        + " but datastore '" + ds.name() + "' uses " + ds.options().chunkSize());
            }
        } catch (FormatException e) {
            throw StoreException.badRequest("bad-index", "index " + name + " is invalid: " + e.getMessage());
        }
        stage(name, uploaded);
    }

    /** Takes a config blob (domain XML, QEMU command line, a named file) into the staging area. */
    public void putBlob(String file, byte[] bytes) throws IOException, StoreException {
        checkOpen();
        String name = stagedName(file);
        Path tmp = staging.resolve(".upload-" + name);
        Files.write(tmp, bytes);
        stage(name, tmp);
    }

    private String stagedName(String file) throws StoreException {
        try {
            Names.item(file);
        } catch (Names.InvalidNameException e) {
            throw StoreException.badRequest("bad-name", e.getMessage());
        }
        if (file.equals(Manifest.FILE_NAME)) {
            throw StoreException.badRequest("bad-name", "the manifest is sent with finish, not as a file");
        }
        return file;
    }

    private void stage(String name, Path from) throws IOException {
        Path target = staging.resolve(name);
        Files.move(from, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        staged.put(name, target);
    }

    /**
     * Checks the client's manifest against everything staged, proves every referenced chunk is
     * known, and publishes the restore point atomically.
     *
     * @throws StoreException BAD_REQUEST when the manifest does not match the uploads or a chunk
     *     is missing (nothing is published; the session stays open so the client may upload what
     *     is missing), CONFLICT when the restore point appeared meanwhile
     */
    public SnapshotId finish(byte[] manifestBytes) throws IOException, StoreException {
        checkOpen();
        Manifest m;
        try {
            m = Manifest.parse(manifestBytes, "manifest of " + snapshot, null);
        } catch (FormatException e) {
            throw StoreException.badRequest("bad-manifest", e.getMessage());
        }
        checkManifest(m);
        for (ManifestDisk disk : m.disks()) {
            checkChunksKnown(disk);
        }
        publish(manifestBytes);
        return snapshot;
    }

    private void checkManifest(Manifest m) throws IOException, StoreException {
        if (!m.snapshot().equals(snapshot)) {
            throw mismatch("names restore point " + m.snapshot() + ", but this session writes " + snapshot);
        }
        if (m.encrypted() != encrypted) {
            throw mismatch("says crypt mode " + (m.encrypted() ? "encrypt" : "none") + ", but the session was opened with "
                    + (encrypted ? "encrypt" : "none"));
        }
        // an imported restore point's parent is history from its origin store, not a base here
        if (!importing && !m.parent().equals(java.util.Optional.ofNullable(base))) {
            throw mismatch("names parent " + m.parent().map(Object::toString).orElse("none") + ", but the session's base is "
                    + (base == null ? "none" : base));
        }
        if (m.chunkSize() != ds.options().chunkSize()) {
            throw mismatch("says chunk size " + m.chunkSize() + ", but the datastore uses " + ds.options().chunkSize());
        }
        Map<String, Boolean> listed = new HashMap<>();
        for (ManifestDisk d : m.disks()) {
            Path p = staged.get(d.index().file());
            if (p == null) {
                throw mismatch("lists index " + d.index().file() + " of disk " + d.name() + ", which was never uploaded");
            }
            try (FixedIndexReader r = FixedIndexReader.open(p)) {
                if (Files.size(p) != d.index().size() || !r.checksum().equals(d.index().checksum()) || r.imageSize() != d.size()) {
                    throw mismatch("describes index " + d.index().file() + " (size " + d.index().size() + ", disk size " + d.size()
                            + ") differently from the uploaded one (size " + Files.size(p) + ", disk size " + r.imageSize() + ")");
                }
            }
            listed.put(d.index().file(), true);
        }
        for (ManifestFile f : m.files()) {
            Path p = staged.get(f.name());
            if (p == null) {
                throw mismatch("lists file " + f.name() + ", which was never uploaded");
            }
            if (Files.size(p) != f.size() || !sha256(p).equals(f.checksum())) {
                throw mismatch("describes file " + f.name() + " differently from the uploaded one");
            }
            listed.put(f.name(), true);
        }
        for (String name : staged.keySet()) {
            if (!listed.containsKey(name)) {
                throw mismatch("does not list the uploaded file " + name);
            }
        }
    }

    private StoreException mismatch(String what) {
        return StoreException.badRequest("manifest-mismatch", "the manifest of " + snapshot + " " + what);
    }

    private void checkChunksKnown(ManifestDisk disk) throws IOException, StoreException {
        ManifestDisk baseDisk = baseManifest == null ? null
                : baseManifest.disks().stream().filter(d -> d.name().equals(disk.name())).findFirst().orElse(null);
        try (FixedIndexReader idx = FixedIndexReader.open(staged.get(disk.index().file()));
                FixedIndexReader baseIdx = baseDisk == null ? null : FixedIndexReader.open(catalog.dir(base).resolve(baseDisk.index().file()))) {
            long[] missingAt = {-1};
            Digest[] missing = {null};
            idx.forEach((i, d) -> {
                if (missing[0] != null || d.isZero()) {
                    return;
                }
                if (baseIdx != null && i < baseIdx.chunkCount() && !baseBad.contains(d) && baseIdx.digest(i).equals(d)) {
                    return;
                }
                if (ds.db().get(DatastoreDb.Cf.SESSIONS, key('u', d)) != null
                        || ds.db().get(DatastoreDb.Cf.SESSIONS, key('k', d)) != null) {
                    return;
                }
                missing[0] = d;
                missingAt[0] = i;
            });
            if (missing[0] != null) {
                throw StoreException.badRequest("missing-chunk", "disk " + disk.name() + " of " + snapshot + " references chunk "
                        + missing[0].hex() + " at offset " + missingAt[0] * (long) ds.options().chunkSize()
                        + " that was neither uploaded in this session nor unchanged from the base");
            }
        }
    }

    private void publish(byte[] manifestBytes) throws IOException, StoreException {
        Path manifest = staging.resolve(Manifest.FILE_NAME);
        Files.write(manifest, manifestBytes);
        // rule 1: chunk files, chunk entries, indexes and manifest durable before the rename
        if (ds.options().syncLevel() == SyncLevel.FILE) {
            for (Path p : staged.values()) {
                fsync(p);
            }
            fsync(manifest);
            dev.coffer.chunker.AtomicFiles.fsyncDirectory(staging);
        }
        ds.syncForPublish();
        Path target = catalog.dir(snapshot);
        Path groupDir = target.getParent();
        boolean newGroup = !Files.isDirectory(groupDir);
        Files.createDirectories(groupDir);
        if (catalog.owner(snapshot.group()) == null) {
            catalog.setOwner(snapshot.group(), owner);
        }
        if (Files.exists(target)) {
            throw StoreException.conflict("snapshot-exists", "restore point " + snapshot + " already exists");
        }
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        if (ds.options().syncLevel() != SyncLevel.NONE) {
            dev.coffer.chunker.AtomicFiles.fsyncDirectory(groupDir);
            if (newGroup) {
                for (Path p = groupDir.getParent(); p != null && p.startsWith(ds.dir()); p = p.getParent()) {
                    dev.coffer.chunker.AtomicFiles.fsyncDirectory(p);
                }
            }
        }
        release(false);
    }

    /** Ends the session without publishing: staged files and session records go. */
    public void abort() throws IOException {
        release(true);
    }

    private synchronized void release(boolean deleteStaging) throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (deleteStaging) {
                deleteTree(staging);
            }
            ds.db().deleteRange(DatastoreDb.Cf.SESSIONS, prefix('k'), prefixEnd('k'));
            ds.db().deleteRange(DatastoreDb.Cf.SESSIONS, prefix('u'), prefixEnd('u'));
            ds.db().delete(DatastoreDb.Cf.SESSIONS, prefix('s'));
        } finally {
            if (baseLease != null) {
                baseLease.close();
            }
        }
    }

    byte[] recordKey() {
        return prefix('s');
    }

    private byte[] prefix(char kind) {
        byte[] k = new byte[1 + idBytes.length];
        k[0] = (byte) kind;
        System.arraycopy(idBytes, 0, k, 1, idBytes.length);
        return k;
    }

    private byte[] prefixEnd(char kind) {
        byte[] k = prefix(kind);
        for (int i = k.length - 1; i >= 0; i--) {
            if (++k[i] != 0) {
                break;
            }
        }
        return k;
    }

    private byte[] key(char kind, Digest d) {
        byte[] p = prefix(kind);
        byte[] k = java.util.Arrays.copyOf(p, p.length + Digest.LENGTH);
        d.copyTo(k, p.length);
        return k;
    }

    private static void fsync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static Digest sha256(Path p) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (var in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return Digest.of(md.digest());
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
