package dev.coffer.chunker;

import java.io.IOException;

/**
 * Bad input in one of Coffer's formats: the bytes are not what the format promises.
 *
 * <p>Every decoder in this module throws a subclass of this, and nothing else, for any input it
 * cannot accept, so a caller can tell "the data is damaged or was tampered with" from a bug or an
 * I/O failure. The message always names what was wrong and where ({@link #where()}: a chunk
 * digest, a file path and offset, a field).
 */
public class FormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String where;

    public FormatException(String where, String what) {
        super(where + ": " + what);
        this.where = where;
    }

    public FormatException(String where, String what, Throwable cause) {
        super(where + ": " + what, cause);
        this.where = where;
    }

    /** The place of the fault: a chunk, a file and offset, a field. */
    public String where() {
        return where;
    }

    /** The leading bytes do not name a known format. */
    public static final class BadMagic extends FormatException {
        private static final long serialVersionUID = 1L;
        public BadMagic(String where, String what) { super(where, what); }
    }

    /** A CRC32C over the bytes does not match the stored one: they were damaged. */
    public static final class CrcMismatch extends FormatException {
        private static final long serialVersionUID = 1L;
        public CrcMismatch(String where, String what) { super(where, what); }
    }

    /** The data ends before the format says it should. */
    public static final class Truncated extends FormatException {
        private static final long serialVersionUID = 1L;
        public Truncated(String where, String what) { super(where, what); }
    }

    /** A length is not the one expected (decoded chunk size, file size, field length). */
    public static final class SizeMismatch extends FormatException {
        private static final long serialVersionUID = 1L;
        public SizeMismatch(String where, String what) { super(where, what); }
    }

    /** AES-GCM authentication failed: the key is wrong or the ciphertext was changed. */
    public static final class DecryptionFailed extends FormatException {
        private static final long serialVersionUID = 1L;
        public DecryptionFailed(String where, String what, Throwable cause) { super(where, what, cause); }
    }

    /** The decoded chunk does not hash to the digest it is stored under. */
    public static final class DigestMismatch extends FormatException {
        private static final long serialVersionUID = 1L;
        public DigestMismatch(String where, String what) { super(where, what); }
    }

    /** A manifest's signature or checksum does not match its protected part. */
    public static final class ManifestTampered extends FormatException {
        private static final long serialVersionUID = 1L;
        public ManifestTampered(String where, String what) { super(where, what); }
    }

    /** A fixed index's digests do not match the checksum in its header. */
    public static final class IndexChecksumMismatch extends FormatException {
        private static final long serialVersionUID = 1L;
        public IndexChecksumMismatch(String where, String what) { super(where, what); }
    }

    /** A key file could not be unlocked: the passphrase is wrong (or the file was changed). */
    public static final class WrongPassphrase extends FormatException {
        private static final long serialVersionUID = 1L;
        public WrongPassphrase(String where, String what) { super(where, what); }
    }

    /** Anything else the format forbids: bad JSON, an unknown version, a field out of range. */
    public static final class Malformed extends FormatException {
        private static final long serialVersionUID = 1L;
        public Malformed(String where, String what) { super(where, what); }
        public Malformed(String where, String what, Throwable cause) { super(where, what, cause); }
    }
}
