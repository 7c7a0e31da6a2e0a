package dev.coffer.chunker;

import static dev.coffer.chunker.FileFormats.ARCHIVE_FRAME_CRC_LENGTH;
import static dev.coffer.chunker.FileFormats.ARCHIVE_FRAME_HEADER_LENGTH;
import static dev.coffer.chunker.FileFormats.MAGIC_LENGTH;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Reads the frames of an archive one after another from a stream that cannot seek (a pipe, a tape).
 *
 * <p>Strict mode throws a {@link FormatException} naming the offset and what is wrong at the first
 * damaged frame. Salvage mode instead records an {@link ArchiveDamage} and resynchronises: it
 * searches forward, from the byte after the damaged frame's start, for the sync magic followed by
 * the archive's uuid and carries on from the first frame whose CRC holds. So a flipped byte costs
 * exactly the frame it is in, and a cut-out section costs the frames it touched. Memory is one
 * frame (at most {@link FileFormats#ARCHIVE_MAX_PAYLOAD} bytes) plus a 64 KiB buffer.
 */
public final class ArchiveFrameReader {

    private final InputStream in;
    private final boolean salvage;
    private final String name;
    private final List<ArchiveDamage> damage = new ArrayList<>();
    private UUID uuid;
    private byte[] buf = new byte[64 * 1024];
    private int pos;
    private int lim;
    private long offset;
    private boolean eof;

    /**
     * @param name the archive's name in messages (a path, or "standard input")
     * @param uuid the archive's uuid when known, else null (taken from the first good frame)
     */
    public ArchiveFrameReader(InputStream in, String name, boolean salvage, UUID uuid) {
        this.in = in;
        this.name = name;
        this.salvage = salvage;
        this.uuid = uuid;
    }

    /** The archive's uuid, once a frame has been read. */
    public UUID uuid() {
        return uuid;
    }

    /** The offset of the next byte to read. */
    public long offset() {
        return offset;
    }

    /** What salvage mode skipped so far, in archive order. */
    public List<ArchiveDamage> damage() {
        return List.copyOf(damage);
    }

    /** For messages: "archive X at offset N". */
    public String where(long at) {
        return "archive " + name + " at offset " + at;
    }

    /**
     * The next good frame, or null at the end of the stream.
     *
     * @throws FormatException in strict mode, at the first damaged or truncated frame
     */
    public ArchiveFrame next() throws IOException {
        long damageStart = -1;
        String reason = null;
        while (true) {
            long start = offset;
            byte[] h = new byte[ARCHIVE_FRAME_HEADER_LENGTH];
            int got = read(h, 0, h.length);
            if (got == 0) {
                close(damageStart, start, reason);
                return null;
            }
            byte[] payload = null;
            int crcRead = 0;
            byte[] crc = new byte[ARCHIVE_FRAME_CRC_LENGTH];
            try {
                if (got < h.length) {
                    throw new FormatException.Truncated(where(start + got), "archive ends inside a frame header");
                }
                int len = ArchiveFrame.checkHeader(h, uuid, where(start));
                payload = new byte[len];
                int p = read(payload, 0, len);
                crcRead = p == len ? read(crc, 0, crc.length) : 0;
                if (p < len || crcRead < crc.length) {
                    throw new FormatException.Truncated(where(start + h.length + p + crcRead), "archive ends inside the "
                            + ArchiveFrame.kindOf(h).label() + " frame that starts at offset " + start);
                }
                ArchiveFrame.checkCrc(h, payload, Bytes.getIntLE(crc, 0), where(start));
            } catch (FormatException e) {
                if (!salvage) {
                    throw e;
                }
                if (damageStart < 0) {
                    damageStart = start;
                    reason = e.getMessage();
                }
                // give back everything after the frame's first byte and look for the next sync marker there
                unread(h, payload, crc, got, crcRead, start);
                resync();
                continue;
            }
            if (uuid == null) {
                uuid = ArchiveFrame.uuid(h, MAGIC_LENGTH);
            }
            close(damageStart, start, reason);
            return new ArchiveFrame(ArchiveFrame.kindOf(h), start, payload);
        }
    }

    private void close(long damageStart, long end, String reason) {
        if (damageStart >= 0) {
            damage.add(new ArchiveDamage(damageStart, end - damageStart, reason));
        }
    }

    private void unread(byte[] h, byte[] payload, byte[] crc, int gotHeader, int gotCrc, long start) {
        int payloadLen = payload == null ? 0 : (int) Math.min(payload.length, offset - start - gotHeader - gotCrc);
        int total = (int) (offset - start);
        byte[] back = new byte[total - 1];
        int at = 0;
        int hn = Math.min(gotHeader, total) - 1;
        System.arraycopy(h, 1, back, 0, hn);
        at += hn;
        if (payloadLen > 0) {
            System.arraycopy(payload, 0, back, at, payloadLen);
            at += payloadLen;
        }
        System.arraycopy(crc, 0, back, at, total - 1 - at);
        byte[] merged = new byte[back.length + lim - pos];
        System.arraycopy(back, 0, merged, 0, back.length);
        System.arraycopy(buf, pos, merged, back.length, lim - pos);
        buf = merged;
        pos = 0;
        lim = merged.length;
        offset = start + 1;
    }

    /** Skips to the next sync magic (plus this archive's uuid when known), or to the end. */
    private void resync() throws IOException {
        byte[] id = null;
        if (uuid != null) {
            id = new byte[16];
            ArchiveFrame.putUuid(id, 0, uuid);
        }
        int need = MAGIC_LENGTH + (id == null ? 0 : id.length);
        while (true) {
            if (!fill(need)) {
                // fewer bytes left than a marker: they are part of the damage
                offset += lim - pos;
                pos = lim;
                return;
            }
            for (int i = pos; i + need <= lim; i++) {
                if (ArchiveFrame.isSync(buf, i)
                        && (id == null || java.util.Arrays.equals(buf, i + MAGIC_LENGTH, i + need, id, 0, id.length))) {
                    offset += i - pos;
                    pos = i;
                    return;
                }
            }
            int skip = lim - pos - (need - 1);
            offset += skip;
            pos += skip;
        }
    }

    /** Ensures at least {@code n} buffered bytes; false when the stream ends first. */
    private boolean fill(int n) throws IOException {
        if (lim - pos >= n) {
            return true;
        }
        if (buf.length - pos < n) {
            byte[] b = buf.length >= n ? buf : new byte[Math.max(64 * 1024, n)];
            System.arraycopy(buf, pos, b, 0, lim - pos);
            lim -= pos;
            pos = 0;
            buf = b;
        }
        while (lim - pos < n && !eof) {
            int r = in.read(buf, lim, buf.length - lim);
            if (r < 0) {
                eof = true;
            } else {
                lim += r;
            }
        }
        return lim - pos >= n;
    }

    /** Reads up to {@code len} bytes, fewer only at the end of the stream. */
    private int read(byte[] b, int off, int len) throws IOException {
        int done = 0;
        int buffered = Math.min(len, lim - pos);
        System.arraycopy(buf, pos, b, off, buffered);
        pos += buffered;
        done += buffered;
        if (done < len && !eof) {
            int n = in.readNBytes(b, off + done, len - done);
            if (n < len - done) {
                eof = true;
            }
            done += n;
        }
        offset += done;
        return done;
    }
}
