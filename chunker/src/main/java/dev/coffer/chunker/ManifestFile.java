package dev.coffer.chunker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * A config blob of a restore point (libvirt domain XML, QEMU command line, a file the user named),
 * as the manifest's protected part records it, so the server can check the upload and a restore can
 * check what it reads back.
 *
 * @param name the file name inside the restore point directory
 * @param size its length in bytes
 * @param checksum SHA-256 of its bytes as stored
 */
public record ManifestFile(String name, long size, Digest checksum) {

    /** @throws IllegalArgumentException for an unsafe name or a negative size */
    public ManifestFile {
        requireStoredFileName(name);
        if (size < 0) {
            throw new IllegalArgumentException("file size must not be negative, got " + size);
        }
        Objects.requireNonNull(checksum, "checksum");
    }

    /** A name for a file in a restore point directory: a valid name that is not the manifest's. */
    static String requireStoredFileName(String name) {
        Names.item(name);
        if (name.equals(Manifest.FILE_NAME)) {
            throw new IllegalArgumentException("file name '" + name + "' is reserved for the manifest");
        }
        return name;
    }

    ObjectNode toJson() {
        ObjectNode o = CanonicalJson.NODES.objectNode();
        o.put("name", name);
        o.put("size", size);
        o.put("checksum", checksum.hex());
        return o;
    }

    static ManifestFile fromJson(JsonNode node, JsonFields f, String path) throws FormatException {
        ObjectNode o = f.object(node, path);
        String name = f.text(o, "name", path);
        long size = f.nonNegative(o, "size", path);
        Digest checksum = digest(f, o, "checksum", path);
        try {
            return new ManifestFile(name, size, checksum);
        } catch (IllegalArgumentException e) {
            throw f.malformed(path, e.getMessage());
        }
    }

    /** A 64-character lowercase hex digest field. */
    static Digest digest(JsonFields f, ObjectNode o, String field, String path) throws FormatException {
        String hex = f.text(o, field, path);
        if (!Digest.isValidHex(hex)) {
            throw f.malformed(JsonFields.child(path, field), "expected 64 lowercase hex characters");
        }
        return Digest.parse(hex);
    }
}
