package dev.coffer.chunker;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import javax.crypto.Mac;

/**
 * The {@code manifest.json} of a restore point: what it holds, written by the client and, when
 * encrypted, HMAC-signed so a server that is not trusted with the data cannot rewrite its history.
 *
 * <p>The document is {@code {"format", "protected": {...}, "signature" | "checksum",
 * "unprotected": {...}}}. The protected part (snapshot, crypt mode, key fingerprint, parent, chunk
 * size, disks with their index checksums, config files, statistics) is covered by
 * HMAC-SHA256 under the key's manifest key when encrypted, or by a plain SHA-256 checksum (damage
 * detection only) when not, both over its {@link CanonicalJson canonical bytes}. The unprotected
 * part (verify state, notes, protection flag) belongs to the server, which may change it with
 * {@link #withUnprotected} without breaking the signature.
 *
 * <p>The manifest is kept as the parsed JSON tree and serialized from it, so fields this version
 * does not know, anywhere in the document, survive a parse and re-serialize untouched and older and
 * newer Coffer versions can share a datastore. The typed accessors are checked views of that tree.
 * Immutable.
 */
public final class Manifest {

    /** The manifest's file name in a restore point directory. */
    public static final String FILE_NAME = "manifest.json";

    private static final Pattern FINGERPRINT = Pattern.compile("([0-9a-f]{2}:){31}[0-9a-f]{2}");
    private static final HexFormat HEX = HexFormat.of();

    /** The outcome of the last verify job on the restore point. */
    public enum VerifyState {
        NONE, OK, FAILED;

        /** The lowercase name used in JSON. */
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The part of a manifest the server owns.
     *
     * @param verify the last verify's outcome
     * @param verifyTime when it ran (whole seconds), null exactly when {@code verify} is NONE
     * @param notes free text for operators
     * @param protect true when prune must keep the restore point
     */
    public record Unprotected(VerifyState verify, Instant verifyTime, String notes, boolean protect) {

        /** What a new restore point starts with: never verified, no notes, not protected. */
        public static final Unprotected INITIAL = new Unprotected(VerifyState.NONE, null, "", false);

        /** @throws IllegalArgumentException if the verify time does not fit the state */
        public Unprotected {
            Objects.requireNonNull(verify, "verify");
            Objects.requireNonNull(notes, "notes");
            if ((verify == VerifyState.NONE) != (verifyTime == null)) {
                throw new IllegalArgumentException("verify time must be set exactly when the verify state is not none");
            }
            if (verifyTime != null) {
                SnapshotId.formatTime(verifyTime); // whole seconds in range
            }
        }
    }

    private final ObjectNode root;
    private final boolean signatureVerified;
    private final SnapshotId snapshot;
    private final SnapshotId parent;
    private final String keyFingerprint;
    private final int chunkSize;
    private final List<ManifestDisk> disks;
    private final List<ManifestFile> files;
    private final Map<String, Long> statistics;
    private final String createdBy;
    private final Unprotected unprotected;

    private Manifest(ObjectNode root, boolean signatureVerified, JsonFields f) throws FormatException {
        this.root = root;
        this.signatureVerified = signatureVerified;
        ObjectNode p = f.object(root, "protected", "");
        ObjectNode s = f.object(p, "snapshot", "protected");
        String sp = "protected.snapshot";
        String ns = f.textOrNull(s, "ns", sp);
        String type = f.text(s, "type", sp);
        String id = f.text(s, "id", sp);
        String time = f.text(s, "time", sp);
        String parentText = f.textOrNull(p, "parent", "protected");
        try {
            this.snapshot = new SnapshotId(ns, type, id, SnapshotId.parseTime(time));
        } catch (IllegalArgumentException e) {
            throw f.malformed(sp, e.getMessage());
        }
        try {
            this.parent = parentText == null ? null : SnapshotId.parsePath(parentText);
        } catch (IllegalArgumentException e) {
            throw f.malformed("protected.parent", e.getMessage());
        }
        this.keyFingerprint = f.textOrNull(p, "key_fingerprint", "protected");
        long cs = f.longValue(p, "chunk_size", "protected");
        if (cs != (int) cs || !FixedIndex.isValidChunkSize((int) cs)) {
            throw f.malformed("protected.chunk_size", "must be a power of two from " + FileFormats.MIN_CHUNK_SIZE
                    + " to " + FileFormats.MAX_CHUNK_SIZE + ", got " + cs);
        }
        this.chunkSize = (int) cs;
        Set<String> names = new HashSet<>();
        Set<String> fileNames = new HashSet<>();
        ArrayNode da = f.array(p, "disks", "protected");
        List<ManifestDisk> ds = new ArrayList<>();
        for (int i = 0; i < da.size(); i++) {
            String path = "protected.disks[" + i + "]";
            ManifestDisk d = ManifestDisk.fromJson(da.get(i), f, path);
            String problem = ManifestBuilder.checkDisk(d, chunkSize, names, fileNames);
            if (problem != null) {
                throw f.malformed(path, problem);
            }
            ds.add(d);
        }
        this.disks = List.copyOf(ds);
        ArrayNode fa = f.array(p, "files", "protected");
        List<ManifestFile> fs = new ArrayList<>();
        for (int i = 0; i < fa.size(); i++) {
            ManifestFile file = ManifestFile.fromJson(fa.get(i), f, "protected.files[" + i + "]");
            if (!fileNames.add(file.name())) {
                throw f.malformed("protected.files[" + i + "].name", "file name '" + file.name() + "' is used twice");
            }
            fs.add(file);
        }
        this.files = List.copyOf(fs);
        this.statistics = Map.copyOf(f.longMap(p, "statistics", "protected"));
        this.createdBy = f.text(p, "created_by", "protected");
        this.unprotected = readUnprotected(f.object(root, "unprotected", ""), f);
    }

    private static Unprotected readUnprotected(ObjectNode u, JsonFields f) throws FormatException {
        ObjectNode v = f.object(u, "verify", "unprotected");
        String state = f.text(v, "state", "unprotected.verify");
        String time = f.textOrNull(v, "time", "unprotected.verify");
        String notes = f.text(u, "notes", "unprotected");
        boolean protect = f.bool(u, "protected", "unprotected");
        try {
            VerifyState vs = switch (state) {
                case "none" -> VerifyState.NONE;
                case "ok" -> VerifyState.OK;
                case "failed" -> VerifyState.FAILED;
                default -> throw new IllegalArgumentException("state must be none, ok or failed, got '" + state + "'");
            };
            return new Unprotected(vs, time == null ? null : SnapshotId.parseTime(time), notes, protect);
        } catch (IllegalArgumentException e) {
            throw f.malformed("unprotected.verify", e.getMessage());
        }
    }

    /** A builder for a new manifest (client side). */
    public static ManifestBuilder builder() {
        return new ManifestBuilder();
    }

    /**
     * Parses and checks a manifest. An unencrypted manifest's checksum is always checked. An
     * encrypted one's signature is checked when {@code key} is given; without a key (the server,
     * which must still read the metadata) it parses but {@link #signatureVerified()} is false.
     *
     * @param json the file's bytes
     * @param where what to name in errors, such as the file's path
     * @param key the key the manifest must be signed with, or null
     * @throws FormatException.ManifestTampered if the checksum or signature does not match, or the
     *     manifest is signed with another key than {@code key}
     * @throws FormatException.Malformed for bad JSON, an unknown format, a missing field or a field
     *     of the wrong type or out of range (the message names the field's path)
     */
    public static Manifest parse(byte[] json, String where, CryptConfig key) throws FormatException {
        JsonFields f = new JsonFields(where);
        ObjectNode root = f.object(CanonicalJson.parse(json, where), "");
        String format = f.text(root, "format", "");
        if (!format.equals(FileFormats.MANIFEST_FORMAT)) {
            throw f.malformed("format", "unknown manifest format '" + format + "', this reader knows '"
                    + FileFormats.MANIFEST_FORMAT + "'");
        }
        ObjectNode p = f.object(root, "protected", "");
        CanonicalJson.check(p, where, "protected", true);
        boolean verified = checkIntegrity(root, p, f, key, where);
        return new Manifest(root, verified, f);
    }

    /** Checks the checksum or signature; returns true when a signature was verified. */
    private static boolean checkIntegrity(ObjectNode root, ObjectNode p, JsonFields f, CryptConfig key, String where)
            throws FormatException {
        String crypt = f.text(p, "crypt", "protected");
        String fingerprint = f.textOrNull(p, "key_fingerprint", "protected");
        byte[] canonical = CanonicalJson.canonicalBytes(p);
        switch (crypt) {
            case "none" -> {
                if (fingerprint != null) {
                    throw f.malformed("protected.key_fingerprint", "must be null in an unencrypted manifest");
                }
                if (root.has("signature")) {
                    throw f.malformed("signature", "an unencrypted manifest has a checksum, not a signature");
                }
                byte[] stored = hex(f, root, "checksum");
                if (!MessageDigest.isEqual(stored, ChunkDigester.sha256().digest(canonical))) {
                    throw new FormatException.ManifestTampered(where + " at checksum",
                            "the protected part does not match its checksum: it was damaged or changed");
                }
                return false;
            }
            case "encrypt" -> {
                if (fingerprint == null || !FINGERPRINT.matcher(fingerprint).matches()) {
                    throw f.malformed("protected.key_fingerprint", "an encrypted manifest needs the key's fingerprint (32 hex pairs joined by ':')");
                }
                if (root.has("checksum")) {
                    throw f.malformed("checksum", "an encrypted manifest has a signature, not a checksum");
                }
                byte[] stored = hex(f, root, "signature");
                if (key == null) {
                    return false;
                }
                if (!key.matchesFingerprint(fingerprint)) {
                    throw new FormatException.ManifestTampered(where + " at protected.key_fingerprint",
                            "signed with key " + fingerprint + ", not with the given key " + key.fingerprint());
                }
                if (!MessageDigest.isEqual(stored, hmac(key, canonical))) {
                    throw new FormatException.ManifestTampered(where + " at signature",
                            "the signature does not match the protected part: it was damaged or changed");
                }
                return true;
            }
            default -> throw f.malformed("protected.crypt", "must be none or encrypt, got '" + crypt + "'");
        }
    }

    private static byte[] hex(JsonFields f, ObjectNode root, String field) throws FormatException {
        String text = f.text(root, field, "");
        if (!Digest.isValidHex(text)) {
            throw f.malformed(field, "expected 64 lowercase hex characters");
        }
        return HEX.parseHex(text);
    }

    static byte[] hmac(CryptConfig key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key.manifestKey());
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Parses a tree the builder made; the builder's output must always pass the parser. */
    static Manifest fromBuilder(ObjectNode root, CryptConfig key) {
        try {
            return parse(CanonicalJson.canonicalBytes(root), "new manifest", key);
        } catch (FormatException e) {
            throw new IllegalStateException("the manifest builder made a manifest its parser rejects", e);
        }
    }

    /**
     * The same manifest with the server's part replaced; fields of the unprotected part this version
     * does not know are kept. The protected part and its signature are untouched.
     */
    public Manifest withUnprotected(Unprotected u) {
        ObjectNode copy = root.deepCopy();
        ObjectNode un = (ObjectNode) copy.get("unprotected");
        ObjectNode verify = (ObjectNode) un.get("verify");
        verify.put("state", u.verify().wire());
        verify.put("time", u.verifyTime() == null ? null : SnapshotId.formatTime(u.verifyTime()));
        un.put("notes", u.notes());
        un.put("protected", u.protect());
        try {
            return new Manifest(copy, signatureVerified, new JsonFields("manifest of " + snapshot));
        } catch (FormatException e) {
            throw new IllegalStateException("replacing the unprotected part broke the manifest", e);
        }
    }

    /** The canonical bytes of the whole manifest: what is written to {@link #FILE_NAME}. */
    public byte[] toBytes() {
        return CanonicalJson.canonicalBytes(root);
    }

    /** The canonical bytes of the protected part: what the checksum or signature covers. */
    byte[] protectedBytes() {
        return CanonicalJson.canonicalBytes(root.get("protected"));
    }

    /** True when an HMAC signature was checked with the key (always false when unencrypted). */
    public boolean signatureVerified() {
        return signatureVerified;
    }

    /** The restore point this manifest describes. */
    public SnapshotId snapshot() {
        return snapshot;
    }

    /** The base restore point this backup was made against, if any. */
    public Optional<SnapshotId> parent() {
        return Optional.ofNullable(parent);
    }

    /** True for {@code "crypt": "encrypt"}: chunks are encrypted and digests keyed. */
    public boolean encrypted() {
        return keyFingerprint != null;
    }

    /** The encryption key's fingerprint, when encrypted. */
    public Optional<String> keyFingerprint() {
        return Optional.ofNullable(keyFingerprint);
    }

    /** The chunk size of every index of the restore point. */
    public int chunkSize() {
        return chunkSize;
    }

    /** The disks, in the order the client listed them. */
    public List<ManifestDisk> disks() {
        return disks;
    }

    /** The config blobs. */
    public List<ManifestFile> files() {
        return files;
    }

    /** Counters of the whole backup. */
    public Map<String, Long> statistics() {
        return statistics;
    }

    /** The program and version that made the manifest. */
    public String createdBy() {
        return createdBy;
    }

    /** The server's part: verify state, notes, protection flag. */
    public Unprotected unprotected() {
        return unprotected;
    }

    /** A copy of the whole tree, unknown fields included. */
    public ObjectNode toJson() {
        return root.deepCopy();
    }

    @Override
    public String toString() {
        return "Manifest[" + snapshot + (encrypted() ? ", encrypted" : "") + ", " + disks.size() + " disks]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Manifest m && root.equals(m.root);
    }

    @Override
    public int hashCode() {
        return root.hashCode();
    }
}
