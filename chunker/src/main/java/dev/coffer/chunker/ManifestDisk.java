package dev.coffer.chunker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One disk of a restore point as the manifest's protected part records it: enough for the server to
 * check the uploaded index, for a restore to check what it reads, and for the next backup to decide
 * whether the checkpoint bitmap may be trusted.
 *
 * @param name the drive name the disk is matched by (never its position)
 * @param size the image size in bytes
 * @param index the fixed index file holding the disk's digests
 * @param mode how the disk was read
 * @param reason why it was not read incrementally ({@code no-base}, {@code bitmap-missing}, ...), or null
 * @param checkpoint the checkpoint bitmap this backup started, or null when there is none
 * @param statistics counters of the backup of this disk (bytes read, uploaded, ...), all integers
 */
public record ManifestDisk(String name, long size, IndexRef index, Mode mode, String reason, Checkpoint checkpoint,
        Map<String, Long> statistics) {

    /** How a disk was read. */
    public enum Mode {
        /** No base: every allocated chunk read and uploaded as needed. */
        FULL,
        /** A trusted bitmap: only dirty chunks read. */
        INCREMENTAL,
        /** Every allocated chunk read and hashed, only new digests uploaded. */
        DIFF;

        /** The lowercase name used in JSON. */
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Mode fromWire(String s) {
            for (Mode m : values()) {
                if (m.wire().equals(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("mode must be full, incremental or diff, got '" + s + "'");
        }
    }

    /**
     * The fixed index of a disk.
     *
     * @param file its file name in the restore point directory
     * @param size the index file's length in bytes
     * @param checksum the SHA-256 over all its digests, as in its header
     */
    public record IndexRef(String file, long size, Digest checksum) {
        /** @throws IllegalArgumentException for an unsafe name or a size no index can have */
        public IndexRef {
            ManifestFile.requireStoredFileName(file);
            if (size < FileFormats.INDEX_HEADER_LENGTH || (size - FileFormats.INDEX_HEADER_LENGTH) % Digest.LENGTH != 0) {
                throw new IllegalArgumentException("an index file is 4096 + 32 * n bytes, got " + size);
            }
            Objects.requireNonNull(checksum, "checksum");
        }
    }

    /**
     * A checkpoint (persistent dirty bitmap) as the manifest records it.
     *
     * @param name the bitmap's name
     * @param seq its sequence number in the group's chain on this node
     * @param node the block node the bitmap lives on
     * @param size the disk size the bitmap covers
     * @param granularity the bitmap's granularity in bytes
     * @param freeze how the point-in-time view was taken: {@code filter} (copy-before-write under a
     *     guest device), {@code job} (a fleecing {@code blockdev-backup}), or null when not recorded
     *     (older manifests; the field is written only when set, so their bytes do not change)
     */
    public record Checkpoint(String name, long seq, String node, long size, long granularity, String freeze) {

        /** A checkpoint without a recorded freeze method. */
        public Checkpoint(String name, long seq, String node, long size, long granularity) {
            this(name, seq, node, size, granularity, null);
        }

        /** @throws IllegalArgumentException for empty names or out-of-range numbers */
        public Checkpoint {
            if (freeze != null && freeze.isEmpty()) {
                throw new IllegalArgumentException("checkpoint freeze is null or a word, not empty");
            }
            if (name == null || name.isEmpty() || node == null || node.isEmpty()) {
                throw new IllegalArgumentException("checkpoint name and node must not be empty");
            }
            if (seq < 0 || size < 0 || granularity <= 0) {
                throw new IllegalArgumentException("checkpoint seq and size must not be negative and granularity must be positive");
            }
        }
    }

    /** @throws IllegalArgumentException if a field is out of range or inconsistent */
    public ManifestDisk {
        Names.item(name);
        if (size < 0) {
            throw new IllegalArgumentException("disk size must not be negative, got " + size);
        }
        Objects.requireNonNull(index, "index");
        Objects.requireNonNull(mode, "mode");
        if (reason != null && reason.isEmpty()) {
            throw new IllegalArgumentException("reason is null or a word, not empty");
        }
        statistics = Collections.unmodifiableSortedMap(new TreeMap<>(statistics));
    }

    ObjectNode toJson() {
        ObjectNode o = CanonicalJson.NODES.objectNode();
        o.put("name", name);
        o.put("size", size);
        ObjectNode idx = o.putObject("index");
        idx.put("file", index.file());
        idx.put("size", index.size());
        idx.put("checksum", index.checksum().hex());
        o.put("mode", mode.wire());
        o.put("reason", reason);
        if (checkpoint == null) {
            o.putNull("checkpoint");
        } else {
            ObjectNode cp = o.putObject("checkpoint");
            cp.put("name", checkpoint.name());
            cp.put("seq", checkpoint.seq());
            cp.put("node", checkpoint.node());
            cp.put("size", checkpoint.size());
            cp.put("granularity", checkpoint.granularity());
            if (checkpoint.freeze() != null) {
                cp.put("freeze", checkpoint.freeze());
            }
        }
        ObjectNode stats = o.putObject("statistics");
        statistics.forEach(stats::put);
        return o;
    }

    static ManifestDisk fromJson(JsonNode node, JsonFields f, String path) throws FormatException {
        ObjectNode o = f.object(node, path);
        String name = f.text(o, "name", path);
        long size = f.nonNegative(o, "size", path);
        String ip = JsonFields.child(path, "index");
        ObjectNode idx = f.object(o, "index", path);
        String file = f.text(idx, "file", ip);
        long indexSize = f.nonNegative(idx, "size", ip);
        Digest checksum = ManifestFile.digest(f, idx, "checksum", ip);
        String modeText = f.text(o, "mode", path);
        String reason = f.textOrNull(o, "reason", path);
        ObjectNode cp = f.objectOrNull(o, "checkpoint", path);
        Checkpoint checkpoint = null;
        String cpp = JsonFields.child(path, "checkpoint");
        if (cp != null) {
            String cpName = f.text(cp, "name", cpp);
            long seq = f.longValue(cp, "seq", cpp);
            String cpNode = f.text(cp, "node", cpp);
            long cpSize = f.longValue(cp, "size", cpp);
            long granularity = f.longValue(cp, "granularity", cpp);
            String freeze = f.optionalText(cp, "freeze", cpp);
            try {
                checkpoint = new Checkpoint(cpName, seq, cpNode, cpSize, granularity, freeze);
            } catch (IllegalArgumentException e) {
                throw f.malformed(cpp, e.getMessage());
            }
        }
        Map<String, Long> statistics = f.longMap(o, "statistics", path);
        try {
            IndexRef index = new IndexRef(file, indexSize, checksum);
            return new ManifestDisk(name, size, index, Mode.fromWire(modeText), reason, checkpoint, statistics);
        } catch (IllegalArgumentException e) {
            throw f.malformed(path, e.getMessage());
        }
    }
}
