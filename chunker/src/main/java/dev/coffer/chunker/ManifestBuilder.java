package dev.coffer.chunker;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Makes a new manifest on the client, where the facts are known: which disks were read how, the
 * checksums of the indexes just written, the config blobs. {@link #sign} fixes the crypt mode from
 * the key it is given, so a manifest can never claim one mode and be protected by the other, and
 * every check the parser makes runs on the result before it is returned. Fails fast on bad or
 * conflicting values; not thread-safe.
 */
public final class ManifestBuilder {

    private SnapshotId snapshot;
    private SnapshotId parent;
    private int chunkSize;
    private final List<ManifestDisk> disks = new ArrayList<>();
    private final List<ManifestFile> files = new ArrayList<>();
    private final Map<String, Long> statistics = new TreeMap<>();
    private String createdBy;

    ManifestBuilder() {}

    /** The restore point the manifest describes (required). */
    public ManifestBuilder snapshot(SnapshotId snapshot) {
        this.snapshot = Objects.requireNonNull(snapshot, "snapshot");
        return this;
    }

    /** The base restore point, or null for a backup without one. */
    public ManifestBuilder parent(SnapshotId parent) {
        this.parent = parent;
        return this;
    }

    /**
     * The datastore's chunk size, which every index of the restore point uses (required).
     *
     * @throws IllegalArgumentException if it is not a valid chunk size
     */
    public ManifestBuilder chunkSize(int chunkSize) {
        if (!FixedIndex.isValidChunkSize(chunkSize)) {
            throw new IllegalArgumentException("not a valid chunk size: " + chunkSize);
        }
        this.chunkSize = chunkSize;
        return this;
    }

    /** Adds a disk; disk names and file names must be unique (checked by {@link #sign}). */
    public ManifestBuilder addDisk(ManifestDisk disk) {
        disks.add(Objects.requireNonNull(disk, "disk"));
        return this;
    }

    /** Adds a config blob; its name must differ from every other file's (checked by {@link #sign}). */
    public ManifestBuilder addFile(ManifestFile file) {
        files.add(Objects.requireNonNull(file, "file"));
        return this;
    }

    /** Sets one counter of the whole backup (durations in seconds, byte counts, ...). */
    public ManifestBuilder statistic(String name, long value) {
        statistics.put(Objects.requireNonNull(name, "name"), value);
        return this;
    }

    /** The program and version making the manifest, such as {@code coffer 0.1.0} (required). */
    public ManifestBuilder createdBy(String createdBy) {
        if (createdBy == null || createdBy.isEmpty()) {
            throw new IllegalArgumentException("created_by must not be empty");
        }
        this.createdBy = createdBy;
        return this;
    }

    /**
     * Builds the manifest: encrypted and HMAC-signed with {@code key}'s manifest key when a key is
     * given, unencrypted with a SHA-256 checksum when it is null. The unprotected part starts as
     * {@link Manifest.Unprotected#INITIAL}.
     *
     * @throws IllegalStateException if a required value is missing
     * @throws IllegalArgumentException if names repeat or an index does not fit its disk
     */
    public Manifest sign(CryptConfig key) {
        if (snapshot == null || chunkSize == 0 || createdBy == null) {
            throw new IllegalStateException("a manifest needs a snapshot, a chunk size and created_by");
        }
        ObjectNode root = CanonicalJson.NODES.objectNode();
        root.put("format", FileFormats.MANIFEST_FORMAT);
        ObjectNode p = root.putObject("protected");
        ObjectNode s = p.putObject("snapshot");
        s.put("ns", snapshot.ns());
        s.put("type", snapshot.type());
        s.put("id", snapshot.id());
        s.put("time", SnapshotId.formatTime(snapshot.time()));
        p.put("crypt", key == null ? "none" : "encrypt");
        p.put("key_fingerprint", key == null ? null : key.fingerprint());
        p.put("parent", parent == null ? null : parent.path());
        p.put("chunk_size", chunkSize);
        Set<String> names = new HashSet<>();
        Set<String> fileNames = new HashSet<>();
        ArrayNode da = p.putArray("disks");
        for (ManifestDisk d : disks) {
            String problem = checkDisk(d, chunkSize, names, fileNames);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            da.add(d.toJson());
        }
        ArrayNode fa = p.putArray("files");
        for (ManifestFile f : files) {
            if (!fileNames.add(f.name())) {
                throw new IllegalArgumentException("file name '" + f.name() + "' is used twice");
            }
            fa.add(f.toJson());
        }
        ObjectNode st = p.putObject("statistics");
        statistics.forEach(st::put);
        p.put("created_by", createdBy);
        byte[] canonical = CanonicalJson.canonicalBytes(p);
        if (key == null) {
            root.put("checksum", Bytes.hex(ChunkDigester.sha256().digest(canonical), 0, Digest.LENGTH));
        } else {
            root.put("signature", Bytes.hex(Manifest.hmac(key, canonical), 0, Digest.LENGTH));
        }
        ObjectNode u = root.putObject("unprotected");
        ObjectNode v = u.putObject("verify");
        v.put("state", Manifest.VerifyState.NONE.wire());
        v.putNull("time");
        u.put("notes", "");
        u.put("protected", false);
        return Manifest.fromBuilder(root, key);
    }

    /**
     * The rules across a disk's fields and across disks, shared with the parser: unique disk and
     * file names, and an index exactly as long as the disk's size and the chunk size make it.
     * Returns what is wrong, or null.
     */
    static String checkDisk(ManifestDisk d, int chunkSize, Set<String> names, Set<String> fileNames) {
        if (!names.add(d.name())) {
            return "disk name '" + d.name() + "' is used twice";
        }
        if (!fileNames.add(d.index().file())) {
            return "file name '" + d.index().file() + "' is used twice";
        }
        long expected = FixedIndex.fileLength(FixedIndex.chunkCount(d.size(), chunkSize));
        if (d.index().size() != expected) {
            return "index of a " + d.size() + "-byte disk in " + chunkSize + "-byte chunks is " + expected
                    + " bytes, not " + d.index().size();
        }
        return null;
    }
}
