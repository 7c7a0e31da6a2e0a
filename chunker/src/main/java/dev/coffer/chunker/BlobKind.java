package dev.coffer.chunker;

import java.util.Arrays;

/**
 * The four kinds of chunk blob, one magic each: whether the payload is zstd-compressed and
 * whether it is AES-256-GCM encrypted (after compression).
 */
public enum BlobKind {
    PLAIN(FileFormats.BLOB_PLAIN_MAGIC, false, false),
    ZSTD(FileFormats.BLOB_ZSTD_MAGIC, true, false),
    ENCRYPTED(FileFormats.BLOB_ENCRYPTED_MAGIC, false, true),
    ZSTD_ENCRYPTED(FileFormats.BLOB_ZSTD_ENCRYPTED_MAGIC, true, true);

    private final byte[] magic;
    private final boolean compressed;
    private final boolean encrypted;

    BlobKind(byte[] magic, boolean compressed, boolean encrypted) {
        this.magic = magic;
        this.compressed = compressed;
        this.encrypted = encrypted;
    }

    static BlobKind of(boolean compressed, boolean encrypted) {
        return encrypted ? (compressed ? ZSTD_ENCRYPTED : ENCRYPTED) : (compressed ? ZSTD : PLAIN);
    }

    /** The kind named by the first 8 bytes of {@code blob}, or null when they are no known magic. */
    static BlobKind fromMagic(byte[] blob) {
        for (BlobKind k : values()) {
            if (Arrays.equals(blob, 0, FileFormats.MAGIC_LENGTH, k.magic, 0, FileFormats.MAGIC_LENGTH)) {
                return k;
            }
        }
        return null;
    }

    byte[] magic() {
        return magic;
    }

    public boolean compressed() {
        return compressed;
    }

    public boolean encrypted() {
        return encrypted;
    }

    /** Header length of blobs of this kind; the payload follows it. */
    public int headerLength() {
        return encrypted ? FileFormats.BLOB_ENCRYPTED_HEADER_LENGTH : FileFormats.BLOB_PLAIN_HEADER_LENGTH;
    }
}
