package dev.coffer.chunker;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * How a restore point stores a VM's config file (libvirt domain XML, a QEMU command line), and how
 * a reader gets it back.
 *
 * <p>In a plain restore point the stored bytes are the file itself, so an operator can read it on
 * the store. In an encrypted one they are an uncompressed encrypted chunk blob of the file
 * ({@link ChunkCodec#encryptFile}): a domain XML names disks, networks and hosts, and the store must
 * never see plaintext of an encrypted backup. Either way the manifest records the size and SHA-256
 * of the <em>stored</em> bytes — the server checks an upload against them without a key — and for
 * an encrypted restore point that record is inside the signed part, so a reader that checks it and
 * the GCM tag knows the file is the one the client wrote under this key.
 */
public final class ConfigBlob {

    private ConfigBlob() {}

    /**
     * What to upload for a config file, and its manifest entry.
     *
     * @param crypt the backup's key, or null for a plain restore point
     */
    public static Sealed seal(String name, byte[] content, CryptConfig crypt) {
        byte[] stored;
        if (crypt == null) {
            stored = content;
        } else {
            try (ChunkCodec codec = ChunkCodec.create(crypt)) {
                stored = codec.encryptFile(content);
            }
        }
        return new Sealed(stored, new ManifestFile(name, stored.length, Digest.of(sha256(stored))));
    }

    /** A config file ready to upload: the bytes to store and the manifest entry that pins them. */
    public record Sealed(byte[] stored, ManifestFile file) {}

    /**
     * The file's content from its stored bytes, after checking them against the manifest.
     *
     * @param manifest the restore point's manifest (its crypt mode decides whether to decrypt)
     * @param crypt the key of an encrypted restore point; ignored for a plain one
     * @param where names the source in messages, e.g. "restore point vm/1/2026-…" or "archive x.cof"
     * @throws FormatException when the stored bytes do not match the manifest, no key is given for
     *     an encrypted restore point, or they do not decrypt under the key
     */
    public static byte[] open(ManifestFile file, byte[] stored, Manifest manifest, CryptConfig crypt, String where)
            throws FormatException {
        String what = "config file " + file.name() + " of " + where;
        if (stored.length != file.size()) {
            throw new FormatException.SizeMismatch(what, "stored as " + stored.length + " bytes, the manifest says "
                    + file.size() + ": the file is damaged");
        }
        if (!Digest.of(sha256(stored)).equals(file.checksum())) {
            throw new FormatException.DigestMismatch(what, "stored bytes do not match the manifest's checksum: the file is damaged");
        }
        if (!manifest.encrypted()) {
            return stored;
        }
        if (crypt == null) {
            throw new FormatException.DecryptionFailed(what, "encrypted, but no key was given (set COFFER_KEYFILE)", null);
        }
        try (ChunkCodec codec = ChunkCodec.create(crypt)) {
            return codec.decryptFile(stored, what);
        }
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
