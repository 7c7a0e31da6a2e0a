package dev.coffer.chunker;

import static dev.coffer.chunker.FileFormats.ARCHIVE_FILE_PART_LENGTH;
import static dev.coffer.chunker.FileFormats.ARCHIVE_TRAILER_ENTRIES_PER_FRAME;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * Writes a single-file archive as one forward-only stream, so it works on a pipe, a tape or
 * {@code ssh}: header frame (manifest), file frames (config blobs and fixed indexes), chunk records
 * in whatever order the caller produces them, trailer frames (digest → record offset) and the end
 * frame.
 *
 * <p>Memory stays bounded for any disk size: frames go straight to the stream, and the trailer's
 * entries (40 bytes per record) are spooled to a temp file in {@code spoolDir} and copied out at
 * {@link #finish}. The writer does not decide which chunks to write: the caller writes each
 * non-zero digest once (see {@link DigestTable}); the writer refuses the zero digest and anything
 * out of order (a file after the first chunk). {@link #close} deletes the spool; it does not close
 * the output stream, which belongs to the caller. Not thread-safe.
 */
public final class ArchiveWriter implements AutoCloseable {

    private final OutputStream out;
    private final UUID uuid;
    private final Path spool;
    private final OutputStream spoolOut;
    private long offset;
    private long records;
    private boolean chunksStarted;
    private boolean finished;

    private ArchiveWriter(OutputStream out, UUID uuid, Path spool) throws IOException {
        this.out = new BufferedOutputStream(out, 1 << 20);
        this.uuid = uuid;
        this.spool = spool;
        this.spoolOut = new BufferedOutputStream(Files.newOutputStream(spool), 1 << 16);
    }

    /**
     * Starts an archive: writes its header frame.
     *
     * @param manifest the restore point's {@code manifest.json}, exactly as stored
     * @param spoolDir where the trailer spool file lives until {@link #finish}
     */
    public static ArchiveWriter start(OutputStream out, UUID uuid, Instant created, byte[] manifest, Path spoolDir)
            throws IOException {
        Objects.requireNonNull(uuid, "uuid");
        Path spool = Files.createTempFile(spoolDir, "archive-trailer-", ".tmp");
        ArchiveWriter w;
        try {
            w = new ArchiveWriter(out, uuid, spool);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(spool);
            throw e;
        }
        byte[] p = new byte[16 + manifest.length];
        Bytes.putIntLE(p, 0, FileFormats.ARCHIVE_VERSION);
        Bytes.putLongLE(p, 8, created.getEpochSecond());
        System.arraycopy(manifest, 0, p, 16, manifest.length);
        w.frame(ArchiveFrame.Kind.HEADER, p, p.length);
        return w;
    }

    /** Bytes written so far: the offset of the next frame. */
    public long offset() {
        return offset;
    }

    /** Chunk records written so far. */
    public long records() {
        return records;
    }

    /** Writes a restore point file held in memory. */
    public void file(String name, byte[] data) throws IOException {
        file(name, data.length, new java.io.ByteArrayInputStream(data));
    }

    /** Writes a restore point file from disk. */
    public void file(String name, Path path) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            file(name, Files.size(path), in);
        }
    }

    /**
     * Writes a restore point file of {@code size} bytes read from {@code data}, in parts of at most
     * {@link FileFormats#ARCHIVE_FILE_PART_LENGTH} bytes (an empty file is one empty part).
     *
     * @throws IllegalStateException after the first chunk record
     * @throws IOException if {@code data} ends before {@code size} bytes
     */
    public void file(String name, long size, InputStream data) throws IOException {
        checkOpen();
        if (chunksStarted) {
            throw new IllegalStateException("file " + name + " after the first chunk record: files belong to the header");
        }
        Names.item(name);
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        int head = 2 + nameBytes.length + 16;
        long pos = 0;
        do {
            int n = (int) Math.min(ARCHIVE_FILE_PART_LENGTH, size - pos);
            byte[] p = new byte[head + n];
            p[0] = (byte) nameBytes.length;
            p[1] = (byte) (nameBytes.length >>> 8);
            System.arraycopy(nameBytes, 0, p, 2, nameBytes.length);
            Bytes.putLongLE(p, 2 + nameBytes.length, size);
            Bytes.putLongLE(p, 2 + nameBytes.length + 8, pos);
            if (data.readNBytes(p, head, n) != n) {
                throw new IOException("file " + name + " ends before its " + size + " bytes");
            }
            frame(ArchiveFrame.Kind.FILE, p, p.length);
            pos += n;
        } while (pos < size);
    }

    /**
     * Writes one chunk record: the stored blob exactly as given (encrypted blobs stay encrypted).
     *
     * @param plainLength the chunk's length before encoding
     * @throws IllegalArgumentException for the zero digest, which is never stored
     */
    public void chunk(Digest digest, int plainLength, byte[] blob) throws IOException {
        checkOpen();
        if (digest.isZero()) {
            throw new IllegalArgumentException("the zero digest is never stored in an archive");
        }
        if (plainLength <= 0 || plainLength > FileFormats.MAX_CHUNK_SIZE || blob.length > FileFormats.BLOB_MAX_LENGTH) {
            throw new IllegalArgumentException("chunk " + digest.shortHex() + ": plain length " + plainLength + " or blob length "
                    + blob.length + " out of range");
        }
        chunksStarted = true;
        byte[] head = new byte[Digest.LENGTH + 4];
        digest.copyTo(head, 0);
        Bytes.putIntLE(head, Digest.LENGTH, plainLength);
        byte[] entry = new byte[Digest.LENGTH + 8];
        digest.copyTo(entry, 0);
        Bytes.putLongLE(entry, Digest.LENGTH, offset);
        spoolOut.write(entry);
        // the blob goes to the stream as it is: no copy of a (MiB-sized) chunk per record
        frame(ArchiveFrame.Kind.CHUNK, head, head.length, blob, blob.length);
        records++;
    }

    /**
     * Writes the trailer and the end frame and flushes the stream.
     *
     * @return the archive's total length
     */
    public long finish() throws IOException {
        checkOpen();
        finished = true;
        spoolOut.close();
        long trailerOffset = offset;
        int entry = Digest.LENGTH + 8;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(spool), 1 << 16)) {
            byte[] p = new byte[ARCHIVE_TRAILER_ENTRIES_PER_FRAME * entry];
            long left = records;
            do {
                int n = (int) Math.min(ARCHIVE_TRAILER_ENTRIES_PER_FRAME, left);
                if (in.readNBytes(p, 0, n * entry) != n * entry) {
                    throw new IOException("trailer spool " + spool + " is shorter than " + records + " entries");
                }
                frame(ArchiveFrame.Kind.TRAILER, p, n * entry);
                left -= n;
            } while (left > 0);
        }
        byte[] end = new byte[24];
        Bytes.putLongLE(end, 0, records);
        Bytes.putLongLE(end, 8, trailerOffset);
        Bytes.putLongLE(end, 16, offset + FileFormats.ARCHIVE_END_FRAME_LENGTH);
        frame(ArchiveFrame.Kind.END, end, end.length);
        out.flush();
        return offset;
    }

    private void frame(ArchiveFrame.Kind kind, byte[] payload, int len) throws IOException {
        frame(kind, payload, len, payload, 0);
    }

    /** Writes one frame whose payload is {@code head[0, headLen)} followed by {@code body[0, bodyLen)}. */
    private void frame(ArchiveFrame.Kind kind, byte[] head, int headLen, byte[] body, int bodyLen) throws IOException {
        byte[] h = ArchiveFrame.header(uuid, kind, headLen + bodyLen);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(h, FileFormats.MAGIC_LENGTH, h.length - FileFormats.MAGIC_LENGTH);
        crc.update(head, 0, headLen);
        crc.update(body, 0, bodyLen);
        byte[] c = new byte[FileFormats.ARCHIVE_FRAME_CRC_LENGTH];
        Bytes.putIntLE(c, 0, (int) crc.getValue());
        out.write(h);
        out.write(head, 0, headLen);
        out.write(body, 0, bodyLen);
        out.write(c);
        offset += h.length + headLen + bodyLen + c.length;
    }

    private void checkOpen() {
        if (finished) {
            throw new IllegalStateException("the archive is finished");
        }
    }

    @Override
    public void close() throws IOException {
        try {
            spoolOut.close();
        } finally {
            Files.deleteIfExists(spool);
        }
        if (finished) {
            out.flush();
        }
    }
}
