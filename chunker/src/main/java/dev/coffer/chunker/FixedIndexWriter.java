package dev.coffer.chunker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;

/**
 * Writes one fixed index, crash-safely: a reader either sees no file or a complete, checksummed
 * one, never a half-written index that would silently restore holes.
 *
 * <p>Digests go, strictly in chunk order, through a small buffer into a temp file
 * {@code .<name>.tmp-<random>} in the target's directory, so the index never sits in memory
 * whatever the disk size; the header's SHA-256 over all digests is kept running as they pass.
 * {@link #finish()} writes the header last, fsyncs, renames the temp file into place and fsyncs the
 * directory (the rename is the commit point). {@link #close()} without a successful finish deletes
 * the temp file and leaves no target: use try-with-resources. An index file is never rewritten, so
 * creating one where a file already exists fails. Not thread-safe.
 */
public final class FixedIndexWriter implements AutoCloseable {

    private static final int BUFFER_LENGTH = 256 * 1024; // 8192 digests per write
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final UUID uuid;
    private final long ctimeSeconds;
    private final long imageSize;
    private final int chunkSize;
    private final long expected;
    private final MessageDigest sha256 = ChunkDigester.sha256();
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_LENGTH);
    private long appended;
    private boolean broken;
    private boolean finished;
    private boolean closed;

    private FixedIndexWriter(Path target, Path temp, FileChannel channel, UUID uuid, long ctimeSeconds,
            long imageSize, int chunkSize) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.uuid = uuid;
        this.ctimeSeconds = ctimeSeconds;
        this.imageSize = imageSize;
        this.chunkSize = chunkSize;
        this.expected = FixedIndex.chunkCount(imageSize, chunkSize);
    }

    /**
     * Starts an index for an image of {@code imageSize} bytes cut into {@code chunkSize} chunks.
     * The creation time is stored in whole seconds (any fraction is dropped).
     *
     * @throws IllegalArgumentException if the image size is negative or the chunk size invalid
     * @throws FileAlreadyExistsException if {@code target} exists
     * @throws IOException if the temp file cannot be created
     */
    public static FixedIndexWriter create(Path target, UUID uuid, Instant ctime, long imageSize, int chunkSize)
            throws IOException {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(ctime, "ctime");
        FixedIndex.chunkCount(imageSize, chunkSize);
        Path absolute = target.toAbsolutePath();
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(absolute.toString(), null, "a fixed index is never rewritten");
        }
        byte[] suffix = new byte[8];
        RANDOM.nextBytes(suffix);
        Path temp = absolute.resolveSibling("." + absolute.getFileName() + ".tmp-" + HexFormat.of().formatHex(suffix));
        FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            channel.position(FileFormats.INDEX_HEADER_LENGTH); // the header is written last, by finish()
            return new FixedIndexWriter(absolute, temp, channel, uuid, ctime.getEpochSecond(), imageSize, chunkSize);
        } catch (IOException | RuntimeException e) {
            channel.close();
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    /** The number of digests the finished index must hold. */
    public long chunkCount() {
        return expected;
    }

    /** The number of digests appended so far; the next one is for this chunk index. */
    public long appended() {
        return appended;
    }

    /**
     * Appends the digest of the next chunk.
     *
     * @throws IllegalStateException if all chunks already have a digest, or the writer was finished,
     *     closed or broken by an earlier I/O error
     * @throws IOException if writing to the temp file fails (the writer is then broken)
     */
    public void append(Digest digest) throws IOException {
        Objects.requireNonNull(digest, "digest");
        ensureWritable();
        if (appended == expected) {
            throw new IllegalStateException("index " + target + " already holds all " + expected + " digests");
        }
        digest.copyTo(buffer.array(), buffer.position());
        buffer.position(buffer.position() + Digest.LENGTH);
        appended++;
        if (!buffer.hasRemaining()) {
            flush();
        }
    }

    /**
     * Completes the index: writes the header, makes the file durable, renames it into place and
     * fsyncs the directory.
     *
     * @return the SHA-256 over all digests, as stored in the header (the manifest records it)
     * @throws IllegalStateException if fewer digests than chunks were appended, or the writer is
     *     not writable any more
     * @throws IOException if writing, syncing or renaming fails (close() then removes the temp file)
     */
    public Digest finish() throws IOException {
        ensureWritable();
        if (appended != expected) {
            throw new IllegalStateException("index " + target + " needs " + expected + " digests, got " + appended);
        }
        flush();
        Digest checksum = Digest.wrap(sha256.digest());
        byte[] header = new FixedIndexHeader(uuid, ctimeSeconds, imageSize, chunkSize, checksum).encode();
        ByteBuffer hb = ByteBuffer.wrap(header);
        try {
            while (hb.hasRemaining()) {
                channel.write(hb, hb.position());
            }
            // durable before it becomes visible: the rename must never publish unsynced data
            channel.force(true);
            channel.close();
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            finished = true;
        } catch (IOException | RuntimeException e) {
            broken = true;
            throw e;
        }
        syncDirectory(target.getParent());
        return checksum;
    }

    /** Deletes the temp file unless {@link #finish()} succeeded; safe to call more than once. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (!finished) {
            try {
                channel.close();
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }

    private void ensureWritable() {
        if (closed || finished) {
            throw new IllegalStateException("index writer for " + target + " is " + (finished ? "finished" : "closed"));
        }
        if (broken) {
            throw new IllegalStateException("index writer for " + target + " failed earlier; close it");
        }
    }

    private void flush() throws IOException {
        buffer.flip();
        sha256.update(buffer.array(), 0, buffer.limit());
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException | RuntimeException e) {
            broken = true;
            throw e;
        }
        buffer.clear();
    }

    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
