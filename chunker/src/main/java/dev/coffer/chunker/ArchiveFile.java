package dev.coffer.chunker;

import static dev.coffer.chunker.FileFormats.ARCHIVE_FRAME_CRC_LENGTH;
import static dev.coffer.chunker.FileFormats.ARCHIVE_FRAME_HEADER_LENGTH;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Random access to an archive that is a seekable file: its end frame, its trailer and any chunk
 * record by offset. This is what restoring from an archive needs, since chunk records come in any
 * order and a disk is written in index order (or any order: positions are independent).
 *
 * <p>Every frame read is checked like the stream reader checks it (sync marker, this archive's
 * uuid, kind, CRC), and a record must carry the digest the trailer promised, so a wrong or damaged
 * offset is an error naming the offset, never a wrong chunk. Thread-safe: reads are positional.
 */
public final class ArchiveFile implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;
    private final UUID uuid;

    private ArchiveFile(Path path, FileChannel channel, UUID uuid) {
        this.path = path;
        this.channel = channel;
        this.uuid = uuid;
    }

    /**
     * Opens {@code path}, the archive with the given uuid (from its header).
     *
     * @throws IOException if the file cannot be opened
     */
    public static ArchiveFile open(Path path, UUID uuid) throws IOException {
        return new ArchiveFile(path, FileChannel.open(path, StandardOpenOption.READ), uuid);
    }

    /**
     * Loads the trailer into {@code table} (digest → record offset), after checking the end frame.
     *
     * @return the number of records
     * @throws FormatException when the end frame or a trailer frame is damaged or inconsistent
     */
    public long loadTrailer(DigestTable table) throws IOException {
        long len = channel.size();
        long endAt = len - FileFormats.ARCHIVE_END_FRAME_LENGTH;
        if (endAt < 0) {
            throw new FormatException.Truncated(where(len), "the archive is too short to end with an end frame");
        }
        ArchiveFrame end = frameAt(endAt);
        if (end.kind() != ArchiveFrame.Kind.END || end.payload().length != 24) {
            throw new FormatException.Malformed(where(endAt), "the archive does not end with an end frame (truncated?)");
        }
        long records = Bytes.getLongLE(end.payload(), 0);
        long at = Bytes.getLongLE(end.payload(), 8);
        if (Bytes.getLongLE(end.payload(), 16) != len || at < 0 || at >= endAt) {
            throw new FormatException.Malformed(where(endAt), "end frame says length " + Bytes.getLongLE(end.payload(), 16)
                    + " and trailer at " + at + ", but the file is " + len + " bytes");
        }
        long entries = 0;
        while (at < endAt) {
            ArchiveFrame t = frameAt(at);
            if (t.kind() != ArchiveFrame.Kind.TRAILER || t.payload().length % (Digest.LENGTH + 8) != 0) {
                throw new FormatException.Malformed(where(at), "expected a trailer frame, found a " + t.kind().label() + " frame");
            }
            byte[] p = t.payload();
            for (int i = 0; i < p.length; i += Digest.LENGTH + 8) {
                Digest d = Digest.of(p, i);
                long offset = Bytes.getLongLE(p, i + Digest.LENGTH);
                if (d.isZero() || offset < 0 || offset >= at) {
                    throw new FormatException.Malformed(where(at), "trailer entry " + (entries + i / 40) + " is invalid");
                }
                if (!table.putIfAbsent(d, offset)) {
                    throw new FormatException.Malformed(where(at), "trailer lists chunk " + d.hex() + " twice");
                }
            }
            entries += p.length / (Digest.LENGTH + 8);
            at += t.length();
        }
        if (entries != records) {
            throw new FormatException.Malformed(where(endAt), "end frame counts " + records + " records, the trailer " + entries);
        }
        return records;
    }

    /**
     * The chunk record at {@code offset}, which must be chunk {@code digest}.
     *
     * @throws FormatException when the frame there is damaged, not a chunk record, or another chunk
     */
    public ArchiveReader.Record record(long offset, Digest digest) throws IOException {
        ArchiveFrame f = frameAt(offset);
        if (f.kind() != ArchiveFrame.Kind.CHUNK) {
            throw new FormatException.Malformed(where(offset), "expected the record of chunk " + digest.hex() + ", found a "
                    + f.kind().label() + " frame");
        }
        ArchiveReader.Record r = ArchiveReader.record(f, where(offset));
        if (!r.digest().equals(digest)) {
            throw new FormatException.Malformed(where(offset), "the record is chunk " + r.digest().hex() + ", not " + digest.hex());
        }
        return r;
    }

    /** Reads and checks the frame at {@code offset}. */
    public ArchiveFrame frameAt(long offset) throws IOException {
        String where = where(offset);
        byte[] h = new byte[ARCHIVE_FRAME_HEADER_LENGTH];
        if (read(h, offset) < h.length) {
            throw new FormatException.Truncated(where, "the archive ends inside a frame header");
        }
        int len = ArchiveFrame.checkHeader(h, uuid, where);
        byte[] rest = new byte[len + ARCHIVE_FRAME_CRC_LENGTH];
        if (read(rest, offset + h.length) < rest.length) {
            throw new FormatException.Truncated(where, "the archive ends inside this " + ArchiveFrame.kindOf(h).label() + " frame");
        }
        byte[] payload = java.util.Arrays.copyOf(rest, len);
        ArchiveFrame.checkCrc(h, payload, Bytes.getIntLE(rest, len), where);
        return new ArchiveFrame(ArchiveFrame.kindOf(h), offset, payload);
    }

    private int read(byte[] b, long position) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            if (channel.read(buf, position + buf.position()) < 0) {
                break;
            }
        }
        return buf.position();
    }

    private String where(long offset) {
        return "archive " + path + " at offset " + offset;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
