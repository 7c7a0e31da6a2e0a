package dev.coffer.chunker;

import static dev.coffer.chunker.FileFormats.INDEX_CHECKSUM_OFFSET;
import static dev.coffer.chunker.FileFormats.INDEX_CHUNK_SIZE_OFFSET;
import static dev.coffer.chunker.FileFormats.INDEX_CTIME_OFFSET;
import static dev.coffer.chunker.FileFormats.INDEX_HEADER_CRC_OFFSET;
import static dev.coffer.chunker.FileFormats.INDEX_HEADER_LENGTH;
import static dev.coffer.chunker.FileFormats.INDEX_IMAGE_SIZE_OFFSET;
import static dev.coffer.chunker.FileFormats.INDEX_MAGIC;
import static dev.coffer.chunker.FileFormats.INDEX_UUID_OFFSET;
import static dev.coffer.chunker.FileFormats.INDEX_VERSION;
import static dev.coffer.chunker.FileFormats.INDEX_VERSION_OFFSET;

import java.util.Arrays;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The 4096-byte header of a fixed index, encoded and decoded in exactly one place so the writer and
 * the reader cannot disagree about a single offset.
 *
 * <p>Layout (little-endian): magic (8) | version u32 | chunk size u32 | uuid (16, big-endian most
 * then least significant half) | creation time i64 epoch seconds | image size u64 | SHA-256 over
 * all digests (32) | zero reserved bytes | CRC32C of bytes [0, 4092) as u32 at 4092.
 */
record FixedIndexHeader(UUID uuid, long ctimeSeconds, long imageSize, int chunkSize, Digest checksum) {

    /** First byte after the checksum field: from here up to the CRC every byte is zero in version 1. */
    static final int RESERVED_OFFSET = INDEX_CHECKSUM_OFFSET + Digest.LENGTH;

    FixedIndexHeader {
        FixedIndex.chunkCount(imageSize, chunkSize); // validates both
    }

    long chunkCount() {
        return FixedIndex.chunkCount(imageSize, chunkSize);
    }

    byte[] encode() {
        byte[] h = new byte[INDEX_HEADER_LENGTH];
        System.arraycopy(INDEX_MAGIC, 0, h, 0, INDEX_MAGIC.length);
        Bytes.putIntLE(h, INDEX_VERSION_OFFSET, INDEX_VERSION);
        Bytes.putIntLE(h, INDEX_CHUNK_SIZE_OFFSET, chunkSize);
        putLongBE(h, INDEX_UUID_OFFSET, uuid.getMostSignificantBits());
        putLongBE(h, INDEX_UUID_OFFSET + 8, uuid.getLeastSignificantBits());
        Bytes.putLongLE(h, INDEX_CTIME_OFFSET, ctimeSeconds);
        Bytes.putLongLE(h, INDEX_IMAGE_SIZE_OFFSET, imageSize);
        checksum.copyTo(h, INDEX_CHECKSUM_OFFSET);
        Bytes.putIntLE(h, INDEX_HEADER_CRC_OFFSET, crc(h));
        return h;
    }

    /** True when the bytes start with the fixed index magic (at least 8 bytes needed). */
    static boolean hasMagic(byte[] h) {
        return h.length >= INDEX_MAGIC.length && Arrays.equals(h, 0, INDEX_MAGIC.length, INDEX_MAGIC, 0, INDEX_MAGIC.length);
    }

    /**
     * Decodes a complete header. Checks run in the order that gives the most useful message: a file
     * of another kind (magic), a newer format (version, whose header may be laid out differently),
     * damage (CRC), and only then the values, which the CRC says were written like that.
     */
    static FixedIndexHeader decode(byte[] h, String file) throws FormatException {
        if (h.length != INDEX_HEADER_LENGTH) {
            throw new IllegalArgumentException("a header is " + INDEX_HEADER_LENGTH + " bytes");
        }
        if (!hasMagic(h)) {
            throw new FormatException.BadMagic(file + " at offset 0 (magic)",
                    "not a Coffer fixed index: magic is " + Bytes.hex(h, 0, INDEX_MAGIC.length));
        }
        int version = Bytes.getIntLE(h, INDEX_VERSION_OFFSET);
        if (version != INDEX_VERSION) {
            throw new FormatException.Malformed(file + " at offset " + INDEX_VERSION_OFFSET + " (version)",
                    "unsupported fixed index version " + Integer.toUnsignedString(version) + ", this reader knows " + INDEX_VERSION);
        }
        int stored = Bytes.getIntLE(h, INDEX_HEADER_CRC_OFFSET);
        int computed = crc(h);
        if (stored != computed) {
            throw new FormatException.CrcMismatch(file + " at offset " + INDEX_HEADER_CRC_OFFSET + " (header CRC32C)",
                    "header is damaged: stored CRC32C " + Integer.toHexString(stored) + ", computed " + Integer.toHexString(computed));
        }
        int chunkSize = Bytes.getIntLE(h, INDEX_CHUNK_SIZE_OFFSET);
        if (!FixedIndex.isValidChunkSize(chunkSize)) {
            throw new FormatException.Malformed(file + " at offset " + INDEX_CHUNK_SIZE_OFFSET + " (chunk size)",
                    "chunk size " + Integer.toUnsignedString(chunkSize) + " is not a power of two from "
                            + FileFormats.MIN_CHUNK_SIZE + " to " + FileFormats.MAX_CHUNK_SIZE);
        }
        long imageSize = Bytes.getLongLE(h, INDEX_IMAGE_SIZE_OFFSET);
        if (imageSize < 0) {
            throw new FormatException.Malformed(file + " at offset " + INDEX_IMAGE_SIZE_OFFSET + " (image size)",
                    "image size " + Long.toUnsignedString(imageSize) + " is larger than 2^63 - 1");
        }
        for (int i = RESERVED_OFFSET; i < INDEX_HEADER_CRC_OFFSET; i++) {
            if (h[i] != 0) {
                throw new FormatException.Malformed(file + " at offset " + i + " (reserved)",
                        "reserved header byte is " + (h[i] & 0xff) + ", version " + INDEX_VERSION + " requires zero");
            }
        }
        UUID uuid = new UUID(getLongBE(h, INDEX_UUID_OFFSET), getLongBE(h, INDEX_UUID_OFFSET + 8));
        long ctime = Bytes.getLongLE(h, INDEX_CTIME_OFFSET);
        return new FixedIndexHeader(uuid, ctime, imageSize, chunkSize, Digest.of(h, INDEX_CHECKSUM_OFFSET));
    }

    private static int crc(byte[] h) {
        CRC32C crc = new CRC32C();
        crc.update(h, 0, INDEX_HEADER_CRC_OFFSET);
        return (int) crc.getValue();
    }

    private static void putLongBE(byte[] b, int off, long v) {
        for (int i = 7; i >= 0; i--) {
            b[off + i] = (byte) v;
            v >>>= 8;
        }
    }

    private static long getLongBE(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[off + i] & 0xff);
        }
        return v;
    }
}
