package dev.coffer.chunker;

import static dev.coffer.chunker.FileFormats.ARCHIVE_FRAME_CRC_LENGTH;
import static dev.coffer.chunker.FileFormats.ARCHIVE_FRAME_HEADER_LENGTH;
import static dev.coffer.chunker.FileFormats.ARCHIVE_MAX_PAYLOAD;
import static dev.coffer.chunker.FileFormats.MAGIC_LENGTH;

import java.util.Arrays;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * One frame of a single-file archive, the unit every part of the archive is cut into:
 * {@code sync magic (8) | archive uuid (16) | kind (1) | zero (3) | payload length (u32) | payload
 * | CRC32C (u32)}, the CRC covering every byte from the uuid to the end of the payload.
 *
 * <p>Why one frame shape for everything: a reader that meets damage (a flipped byte, a cut) only
 * has to find the next sync marker followed by the archive's uuid and check one CRC to be back on
 * track, whatever part of the archive it is in. The layout of each kind's payload is in
 * docs/formats.md ("Single-file archive").
 *
 * @param kind what the payload holds
 * @param offset where the frame starts in the archive
 * @param payload the payload bytes (not copied: frames are handed from reader to one consumer)
 */
public record ArchiveFrame(Kind kind, long offset, byte[] payload) {

    /** The frame kinds, by their byte on the wire. Frozen. */
    public enum Kind {
        /** version, creation time, the manifest. Always the first frame. */
        HEADER(1),
        /** one part of a restore point file (fixed index or config blob). */
        FILE(2),
        /** one chunk record: digest, plain length, stored blob. */
        CHUNK(3),
        /** a run of trailer index entries: digest → record offset. */
        TRAILER(4),
        /** record count, trailer offset, archive length. Always the last frame. */
        END(5);

        final int code;

        Kind(int code) {
            this.code = code;
        }

        static Kind of(int code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            return null;
        }

        /** Lower case, for messages. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The frame's length on the wire: header, payload and CRC. */
    public long length() {
        return (long) ARCHIVE_FRAME_HEADER_LENGTH + payload.length + ARCHIVE_FRAME_CRC_LENGTH;
    }

    /** The 32-byte header of a frame with a payload of {@code len} bytes. */
    static byte[] header(UUID uuid, Kind kind, int len) {
        if (len < 0 || len > ARCHIVE_MAX_PAYLOAD) {
            throw new IllegalArgumentException("frame payload of " + len + " bytes exceeds " + ARCHIVE_MAX_PAYLOAD);
        }
        byte[] h = new byte[ARCHIVE_FRAME_HEADER_LENGTH];
        System.arraycopy(FileFormats.ARCHIVE_SYNC_MAGIC, 0, h, 0, MAGIC_LENGTH);
        putUuid(h, MAGIC_LENGTH, uuid);
        h[24] = (byte) kind.code;
        Bytes.putIntLE(h, 28, len);
        return h;
    }

    /** True when {@code b[off, off + 8)} is the sync magic. */
    static boolean isSync(byte[] b, int off) {
        return Arrays.equals(b, off, off + MAGIC_LENGTH, FileFormats.ARCHIVE_SYNC_MAGIC, 0, MAGIC_LENGTH);
    }

    /**
     * Checks a 32-byte frame header and returns its payload length.
     *
     * @param uuid the archive's uuid, or null while it is not known yet
     * @param where names the position in messages
     */
    static int checkHeader(byte[] h, UUID uuid, String where) throws FormatException {
        if (!isSync(h, 0)) {
            throw new FormatException.BadMagic(where, "no archive sync marker (found " + Bytes.hex(h, 0, MAGIC_LENGTH)
                    + "): not a Coffer archive, or damaged here");
        }
        UUID found = uuid(h, MAGIC_LENGTH);
        if (uuid != null && !uuid.equals(found)) {
            throw new FormatException.Malformed(where, "frame belongs to archive " + found + ", not to " + uuid);
        }
        Kind kind = Kind.of(h[24] & 0xff);
        if (kind == null) {
            throw new FormatException.Malformed(where, "unknown frame kind " + (h[24] & 0xff));
        }
        if (h[25] != 0 || h[26] != 0 || h[27] != 0) {
            throw new FormatException.Malformed(where, "reserved frame header bytes are not zero");
        }
        int len = Bytes.getIntLE(h, 28);
        if (len < 0 || len > ARCHIVE_MAX_PAYLOAD) {
            throw new FormatException.SizeMismatch(where, "frame payload length " + Integer.toUnsignedString(len)
                    + " exceeds the limit of " + ARCHIVE_MAX_PAYLOAD);
        }
        return len;
    }

    /** The kind byte of a header already checked by {@link #checkHeader}. */
    static Kind kindOf(byte[] h) {
        return Kind.of(h[24] & 0xff);
    }

    /** Checks the CRC of a whole frame {@code f} (header, payload, CRC). */
    static void checkCrc(byte[] h, byte[] payload, int storedCrc, String where) throws FormatException {
        CRC32C crc = new CRC32C();
        crc.update(h, MAGIC_LENGTH, ARCHIVE_FRAME_HEADER_LENGTH - MAGIC_LENGTH);
        crc.update(payload, 0, payload.length);
        if ((int) crc.getValue() != storedCrc) {
            throw new FormatException.CrcMismatch(where, String.format(
                    "%s frame CRC32C mismatch (stored %08x, computed %08x): the frame is damaged",
                    kindOf(h).label(), storedCrc, (int) crc.getValue()));
        }
    }

    static void putUuid(byte[] b, int off, UUID u) {
        long msb = u.getMostSignificantBits();
        long lsb = u.getLeastSignificantBits();
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (msb >>> (56 - 8 * i));
            b[off + 8 + i] = (byte) (lsb >>> (56 - 8 * i));
        }
    }

    static UUID uuid(byte[] b, int off) {
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = msb << 8 | (b[off + i] & 0xff);
            lsb = lsb << 8 | (b[off + 8 + i] & 0xff);
        }
        return new UUID(msb, lsb);
    }
}
