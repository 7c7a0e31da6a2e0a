package dev.coffer.chunker;

/**
 * Every magic number and header size of Coffer's on-disk and on-wire formats, in one place.
 *
 * <p><b>PLEASE DO NOT MODIFY.</b> These values are frozen: chunk blobs, fixed indexes and key
 * files written by any Coffer version must stay readable by every later one, and a datastore may
 * be shared by old and new versions. A new format gets a new magic; an old magic is never reused.
 * Each magic is the first 8 bytes of SHA-256 of the label in its comment, so anyone can re-derive
 * it ({@code FileFormatsTest} does). Byte tables for each format are in {@code docs/formats.md}.
 * All multi-byte integers in these formats are little-endian.
 */
public final class FileFormats {

    private FileFormats() {}

    /** Length of every magic. */
    public static final int MAGIC_LENGTH = 8;

    /** SHA-256("coffer chunk blob v1: plain")[0..8]: payload is the chunk as it is. */
    static final byte[] BLOB_PLAIN_MAGIC = {
        (byte) 0xa3, (byte) 0x16, (byte) 0xe8, (byte) 0xe6, (byte) 0xe7, (byte) 0x7b, (byte) 0x4b, (byte) 0x8a };

    /** SHA-256("coffer chunk blob v1: zstd")[0..8]: payload is one zstd frame. */
    static final byte[] BLOB_ZSTD_MAGIC = {
        (byte) 0xd1, (byte) 0x52, (byte) 0x97, (byte) 0xf0, (byte) 0xdc, (byte) 0xad, (byte) 0xbc, (byte) 0x27 };

    /** SHA-256("coffer chunk blob v1: encrypted")[0..8]: payload is AES-256-GCM ciphertext of the chunk. */
    static final byte[] BLOB_ENCRYPTED_MAGIC = {
        (byte) 0x32, (byte) 0xb9, (byte) 0xca, (byte) 0x3d, (byte) 0x43, (byte) 0xfc, (byte) 0x09, (byte) 0xa4 };

    /** SHA-256("coffer chunk blob v1: zstd+encrypted")[0..8]: ciphertext of one zstd frame. */
    static final byte[] BLOB_ZSTD_ENCRYPTED_MAGIC = {
        (byte) 0x37, (byte) 0x99, (byte) 0x94, (byte) 0xa8, (byte) 0x9b, (byte) 0x59, (byte) 0x44, (byte) 0x40 };

    /** Offset of the CRC32C field in a chunk blob; the CRC covers every byte after the field. */
    public static final int BLOB_CRC_OFFSET = MAGIC_LENGTH;
    /** Length of an AES-GCM IV (96 bits, as NIST SP 800-38D recommends). */
    public static final int GCM_IV_LENGTH = 12;
    /** Length of an AES-GCM authentication tag (128 bits). */
    public static final int GCM_TAG_LENGTH = 16;
    /** Header of a plain or zstd blob: magic (8) | CRC32C (4). */
    public static final int BLOB_PLAIN_HEADER_LENGTH = MAGIC_LENGTH + 4;
    /** Header of an encrypted blob: magic (8) | CRC32C (4) | IV (12) | tag (16). */
    public static final int BLOB_ENCRYPTED_HEADER_LENGTH = BLOB_PLAIN_HEADER_LENGTH + GCM_IV_LENGTH + GCM_TAG_LENGTH;
    /** Encryption and decryption hand the cipher at most this many bytes per call (see ChunkCodec). */
    public static final int CIPHER_STEP = 64 * 1024;
    /** No blob may hold more than this many payload bytes: the largest chunk plus zstd's worst-case growth. */
    public static final int BLOB_MAX_LENGTH = 16 * 1024 * 1024;

    /** Smallest chunk size a datastore may be created with (64 KiB). */
    public static final int MIN_CHUNK_SIZE = 64 * 1024;
    /** Largest chunk size a datastore may be created with (4 MiB, PBS's fixed size). */
    public static final int MAX_CHUNK_SIZE = 4 * 1024 * 1024;
    /**
     * The chunk size of a datastore created without one: 1 MiB. VM backups are incrementals for
     * months after one full backup, and on scattered guest writes 1 MiB chunks read a third and
     * store a third of what 4 MiB chunks do, for about 15% more CPU on full backups
     * (docs/benchmarks.md, "Chunk size"). Not a format constant: a datastore records its own.
     */
    public static final int DEFAULT_CHUNK_SIZE = 1024 * 1024;

    /** SHA-256("coffer fixed index v1")[0..8]. */
    static final byte[] INDEX_MAGIC = {
        (byte) 0x0a, (byte) 0x18, (byte) 0xad, (byte) 0xbf, (byte) 0x28, (byte) 0x1c, (byte) 0x72, (byte) 0x3f };
    /** The only fixed index format version so far. */
    public static final int INDEX_VERSION = 1;
    /** Fixed index header length; digests start right after it, 32 bytes each. */
    public static final int INDEX_HEADER_LENGTH = 4096;
    /** Offsets of the fixed index header fields. */
    public static final int INDEX_VERSION_OFFSET = 8;
    public static final int INDEX_CHUNK_SIZE_OFFSET = 12;
    public static final int INDEX_UUID_OFFSET = 16;
    public static final int INDEX_CTIME_OFFSET = 32;
    public static final int INDEX_IMAGE_SIZE_OFFSET = 40;
    public static final int INDEX_CHECKSUM_OFFSET = 48;
    /** CRC32C of header bytes [0, 4092), stored in the header's last 4 bytes. */
    public static final int INDEX_HEADER_CRC_OFFSET = INDEX_HEADER_LENGTH - 4;

    /**
     * SHA-256("coffer archive v1: sync")[0..8]: the sync marker that opens every frame of a
     * single-file archive (its first 8 bytes are this magic too). Followed in each frame by the
     * archive's uuid, so a salvaging reader can find the next frame of <em>this</em> archive after
     * damage, even inside a chunk that happens to contain another archive.
     */
    static final byte[] ARCHIVE_SYNC_MAGIC = {
        (byte) 0x1a, (byte) 0xb7, (byte) 0xec, (byte) 0x3f, (byte) 0x2b, (byte) 0xe7, (byte) 0x2b, (byte) 0x3b };
    /** The only archive format version so far, in the header frame. */
    public static final int ARCHIVE_VERSION = 1;
    /** Frame header: sync magic (8) | archive uuid (16) | kind (1) | zero (3) | payload length (u32). */
    public static final int ARCHIVE_FRAME_HEADER_LENGTH = 32;
    /** Every frame ends with the CRC32C of its bytes from the uuid to the end of the payload. */
    public static final int ARCHIVE_FRAME_CRC_LENGTH = 4;
    /** Largest payload of any frame: a chunk record (digest, plain length, largest blob). */
    public static final int ARCHIVE_MAX_PAYLOAD = Digest.LENGTH + 4 + BLOB_MAX_LENGTH;
    /** A restore point file (index, config blob) is cut into frames of at most this many data bytes. */
    public static final int ARCHIVE_FILE_PART_LENGTH = 1024 * 1024;
    /** A trailer frame holds at most this many (digest, record offset) entries of 40 bytes. */
    public static final int ARCHIVE_TRAILER_ENTRIES_PER_FRAME = 16 * 1024;
    /** The end frame's length: header, record count, trailer offset, archive length, CRC. */
    public static final int ARCHIVE_END_FRAME_LENGTH = ARCHIVE_FRAME_HEADER_LENGTH + 24 + ARCHIVE_FRAME_CRC_LENGTH;

    /** The key file's {@code format} field of this version (key files are JSON). */
    public static final String KEY_FILE_FORMAT = "coffer-key-v1";

    /** The manifest's {@code format} field of this version. */
    public static final String MANIFEST_FORMAT = "coffer-manifest-v1";

    /** HKDF-SHA256 info labels deriving each key from a master key. */
    public static final String HKDF_AES_KEY_LABEL = "coffer v1 aes-256-gcm chunk key";
    public static final String HKDF_ID_KEY_LABEL = "coffer v1 chunk id key";
    public static final String HKDF_MANIFEST_KEY_LABEL = "coffer v1 manifest hmac key";
    public static final String HKDF_FINGERPRINT_LABEL = "coffer v1 key fingerprint";
}
