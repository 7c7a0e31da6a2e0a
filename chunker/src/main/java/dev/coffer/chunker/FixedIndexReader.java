package dev.coffer.chunker;

import static dev.coffer.chunker.FileFormats.INDEX_HEADER_LENGTH;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.UUID;

/**
 * Reads one fixed index, trusting nothing in it until it has been checked.
 *
 * <p>{@link #open} validates the header (magic, version, CRC32C, chunk size), that the file length
 * is exactly what the image size implies, and the SHA-256 over all digests, streaming them in
 * {@value #BLOCK_LENGTH}-byte blocks, so memory stays bounded for any disk size and a reader never
 * hands out a digest from a damaged index. Digests are then read on demand with positional reads:
 * {@link #digest(long)} for random access during restore, {@link #forEach} for a sequential pass
 * (GC mark, verify, building a session's known set). Positional reads make it safe to share one
 * reader between threads. Every error names the file and the offset or field at fault.
 */
public final class FixedIndexReader implements AutoCloseable {

    static final int BLOCK_LENGTH = 1024 * 1024;

    /** Receives the digests of an index in chunk order. */
    @FunctionalInterface
    public interface DigestVisitor {
        /** Called once per chunk, with the chunk's index and its digest. */
        void visit(long chunk, Digest digest) throws IOException;
    }

    private final Path path;
    private final FileChannel channel;
    private final FixedIndexHeader header;
    private final long chunkCount;

    private FixedIndexReader(Path path, FileChannel channel, FixedIndexHeader header) {
        this.path = path;
        this.channel = channel;
        this.header = header;
        this.chunkCount = header.chunkCount();
    }

    /**
     * Opens and fully validates an index file.
     *
     * @throws FormatException.BadMagic if the file is not a fixed index
     * @throws FormatException.Malformed for an unknown version or a field out of range
     * @throws FormatException.CrcMismatch if the header is damaged
     * @throws FormatException.Truncated if the file is shorter than its header says
     * @throws FormatException.SizeMismatch if the file is longer than its header says
     * @throws FormatException.IndexChecksumMismatch if the digests do not match the header's checksum
     * @throws IOException if the file cannot be read
     */
    public static FixedIndexReader open(Path path) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            String file = path.toString();
            long length = channel.size();
            byte[] h = new byte[(int) Math.min(length, INDEX_HEADER_LENGTH)];
            readFully(channel, ByteBuffer.wrap(h), 0, file);
            if (length < INDEX_HEADER_LENGTH) {
                if (h.length >= FileFormats.MAGIC_LENGTH && !FixedIndexHeader.hasMagic(h)) {
                    throw new FormatException.BadMagic(file + " at offset 0 (magic)",
                            "not a Coffer fixed index: magic is " + Bytes.hex(h, 0, FileFormats.MAGIC_LENGTH));
                }
                throw new FormatException.Truncated(file + " at offset " + length,
                        "file ends inside the " + INDEX_HEADER_LENGTH + "-byte header");
            }
            FixedIndexHeader header = FixedIndexHeader.decode(h, file);
            long expectedLength = FixedIndex.fileLength(header.chunkCount());
            if (length < expectedLength) {
                throw new FormatException.Truncated(file + " at offset " + length,
                        "file ends early: " + header.chunkCount() + " digests need " + expectedLength + " bytes");
            }
            if (length > expectedLength) {
                throw new FormatException.SizeMismatch(file + " at offset " + expectedLength,
                        (length - expectedLength) + " bytes after the last of " + header.chunkCount() + " digests");
            }
            FixedIndexReader reader = new FixedIndexReader(path, channel, header);
            reader.verifyChecksum();
            return reader;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private void verifyChecksum() throws IOException {
        MessageDigest sha256 = ChunkDigester.sha256();
        scan(0, (block, first, count) -> sha256.update(block, 0, count * Digest.LENGTH));
        Digest computed = Digest.wrap(sha256.digest());
        if (!computed.equals(header.checksum())) {
            throw new FormatException.IndexChecksumMismatch(
                    path + " at offset " + FileFormats.INDEX_CHECKSUM_OFFSET + " (digest checksum)",
                    "digests hash to " + computed + ", header says " + header.checksum());
        }
    }

    /** The file this reader reads. */
    public Path path() {
        return path;
    }

    /** The index's uuid, chosen by its writer. */
    public UUID uuid() {
        return header.uuid();
    }

    /** The creation time, in whole seconds. */
    public Instant ctime() {
        return Instant.ofEpochSecond(header.ctimeSeconds());
    }

    /** The size in bytes of the disk image this index describes. */
    public long imageSize() {
        return header.imageSize();
    }

    /** The chunk size the image was cut with. */
    public int chunkSize() {
        return header.chunkSize();
    }

    /** The number of digests: {@code ceil(imageSize / chunkSize)}. */
    public long chunkCount() {
        return chunkCount;
    }

    /** The SHA-256 over all digests, verified by {@link #open}; the manifest records it. */
    public Digest checksum() {
        return header.checksum();
    }

    /** The length of chunk {@code chunk}: the chunk size, or less for the last chunk. */
    public int chunkLength(long chunk) {
        return FixedIndex.chunkLength(header.imageSize(), header.chunkSize(), chunk);
    }

    /**
     * The digest of chunk {@code chunk}.
     *
     * @throws IndexOutOfBoundsException if there is no such chunk
     * @throws FormatException.Truncated if the file shrank since it was opened
     * @throws IOException if reading fails or the reader is closed
     */
    public Digest digest(long chunk) throws IOException {
        if (chunk < 0 || chunk >= chunkCount) {
            throw new IndexOutOfBoundsException("chunk " + chunk + " of index " + path + " with " + chunkCount + " chunks");
        }
        byte[] d = new byte[Digest.LENGTH];
        readFully(channel, ByteBuffer.wrap(d), offsetOf(chunk), path.toString());
        return Digest.wrap(d);
    }

    /**
     * Hands every digest, in chunk order, to {@code visitor}, reading the file in large blocks.
     * The digests are not re-verified against the checksum; {@link #open} did that.
     *
     * @throws IOException if reading fails, or whatever the visitor throws
     */
    public void forEach(DigestVisitor visitor) throws IOException {
        scan(0, (block, first, count) -> {
            for (int i = 0; i < count; i++) {
                visitor.visit(first + i, Digest.of(block, i * Digest.LENGTH));
            }
        });
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private interface BlockVisitor {
        void visit(byte[] block, long firstChunk, int count) throws IOException;
    }

    private void scan(long from, BlockVisitor visitor) throws IOException {
        int perBlock = BLOCK_LENGTH / Digest.LENGTH;
        byte[] block = new byte[(int) Math.min(BLOCK_LENGTH, Math.max(0, chunkCount - from) * Digest.LENGTH)];
        for (long first = from; first < chunkCount; first += perBlock) {
            int count = (int) Math.min(perBlock, chunkCount - first);
            ByteBuffer buf = ByteBuffer.wrap(block, 0, count * Digest.LENGTH);
            readFully(channel, buf, offsetOf(first), path.toString());
            visitor.visit(block, first, count);
        }
    }

    private static long offsetOf(long chunk) {
        return INDEX_HEADER_LENGTH + chunk * Digest.LENGTH;
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position, String file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n < 0) {
                throw new FormatException.Truncated(file + " at offset " + pos, "file ends early (it changed after it was opened?)");
            }
            pos += n;
        }
    }
}
