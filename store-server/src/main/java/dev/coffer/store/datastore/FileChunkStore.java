package dev.coffer.store.datastore;

import com.sun.nio.file.ExtendedOpenOption;
import dev.coffer.chunker.AtomicFiles;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.LinuxIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Chunk blobs as files: {@code chunks/<first 4 hex>/<64 hex>}, as PBS lays them out.
 *
 * <p>65,536 prefix directories keep any one directory small; they are created on first use, not
 * up front (PBS pre-creates them, which costs 256 MiB of directory blocks on ext4 before the first
 * backup). A blob is written to a temp file in {@code chunks/.partial/} and renamed over its final
 * name, so readers never see part of a blob, and the temp files a killed server leaves behind are
 * all in one place: {@link #removePartials} empties it at the next start. At {@link SyncLevel#FILE}
 * the file and the directory are fsynced around the rename, at {@link SyncLevel#FILESYSTEM}
 * {@link #sync} flushes the filesystem once before a publish. Quarantine renames to
 * {@code <hex>.bad}.
 *
 * <p>Blobs are written and read with {@code O_DIRECT} where the filesystem allows it (written padded
 * to the 4 KiB alignment it needs, then truncated to the blob's length): a store writes each chunk
 * once and reads it back rarely, so the page cache gains little from it, and on our test VM copying
 * 2 GB of uploads into fresh page-cache pages cost 5 s of CPU, a third of the server's
 * (docs/benchmarks.md); reading them back through the page cache cost as much again. Filesystems
 * that refuse {@code O_DIRECT} get buffered I/O.
 */
public final class FileChunkStore implements ChunkStore {

    static final String BAD_SUFFIX = ".bad";
    /** Where blobs are written before they are renamed into place; not a 4-hex prefix, so never listed. */
    static final String PARTIAL_DIR = ".partial";
    private static final int ALIGNMENT = 4096;
    private static final byte[] ZERO_PAD = new byte[ALIGNMENT];

    private final Path root;
    private final Path partial;
    private final SyncLevel syncLevel;
    private final boolean direct;
    /** Each thread's aligned buffer for direct I/O, grown to the largest blob it has written or read. */
    private final ThreadLocal<ByteBuffer> buffers = new ThreadLocal<>();

    /** A store over {@code root} (the datastore's {@code chunks} directory), created if missing. */
    public FileChunkStore(Path root, SyncLevel syncLevel) throws IOException {
        this.root = Files.createDirectories(root);
        this.partial = Files.createDirectories(root.resolve(PARTIAL_DIR));
        this.syncLevel = syncLevel;
        this.direct = directSupported(partial);
    }

    /** Whether {@code dir}'s filesystem accepts {@code O_DIRECT} (tmpfs before Linux 6.6 and some FUSE filesystems do not). */
    private static boolean directSupported(Path dir) throws IOException {
        Path probe = dir.resolve(".probe-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                ExtendedOpenOption.DIRECT)) {
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    /** Whether blobs are written past the page cache ({@code O_DIRECT}). */
    public boolean writesDirect() {
        return direct;
    }

    /**
     * Deletes the temp files of uploads that were being written when an earlier server process
     * died. Call only while no upload can be in flight: at start, with the datastore's index lock held.
     *
     * @return how many were deleted
     */
    public int removePartials() throws IOException {
        int n = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(partial)) {
            for (Path f : files) {
                if (Files.deleteIfExists(f)) {
                    n++;
                }
            }
        }
        return n;
    }

    /** The file a digest's blob lives in. */
    public Path path(Digest digest) {
        String hex = digest.hex();
        return root.resolve(hex.substring(0, 4)).resolve(hex);
    }

    @Override
    public void put(Digest digest, byte[] blob) throws IOException {
        Path target = path(digest);
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = partial.resolve(target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            if (direct) {
                writeDirect(tmp, blob);
            } else {
                writeBuffered(tmp, blob);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (syncLevel == SyncLevel.FILE) {
                AtomicFiles.fsyncDirectory(dir);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void writeBuffered(Path tmp, byte[] blob) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(blob);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            if (syncLevel == SyncLevel.FILE) {
                ch.force(false);
            }
        }
    }

    /** The blob padded with zeros to the alignment, written in one go, then cut to its length. */
    private void writeDirect(Path tmp, byte[] blob) throws IOException {
        int padded = aligned(blob.length);
        ByteBuffer buf = buffer(blob.length);
        buf.put(blob).put(ZERO_PAD, 0, padded - blob.length).flip(); // the padding is cut off again below
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                ExtendedOpenOption.DIRECT)) {
            long at = 0;
            while (buf.hasRemaining()) {
                at += ch.write(buf, at);
            }
            ch.truncate(blob.length);
            if (syncLevel == SyncLevel.FILE) {
                ch.force(true); // the truncation is metadata
            }
        }
    }

    @Override
    public byte[] get(Digest digest) throws IOException {
        try {
            return direct ? readDirect(path(digest)) : Files.readAllBytes(path(digest));
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The whole file, read past the page cache into the thread's aligned buffer and copied out. */
    private byte[] readDirect(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE - 2 * ALIGNMENT) {
                throw new IOException(file + " is " + size + " bytes, larger than any chunk blob");
            }
            ByteBuffer buf = buffer((int) size).limit(aligned((int) size));
            long at = 0;
            while (at < size) { // the read that reaches an unaligned end of file is short
                int n = ch.read(buf, at);
                if (n <= 0) {
                    break;
                }
                at += n;
            }
            if (at != size) {
                throw new IOException(file + " changed while it was read: " + at + " bytes where " + size + " were expected");
            }
            byte[] out = new byte[(int) size];
            buf.flip().get(out);
            return out;
        }
    }

    private static int aligned(int length) {
        return (length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** This thread's aligned direct buffer, cleared, with room for {@code length} bytes rounded up to the alignment. */
    private ByteBuffer buffer(int length) {
        int padded = aligned(length);
        ByteBuffer buf = buffers.get();
        if (buf == null || buf.capacity() < padded) {
            buf = ByteBuffer.allocateDirect(padded + ALIGNMENT).alignedSlice(ALIGNMENT);
            buffers.set(buf);
        }
        return buf.clear();
    }

    @Override
    public long size(Digest digest) throws IOException {
        try {
            return Files.size(path(digest));
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    @Override
    public boolean delete(Digest digest) throws IOException {
        return Files.deleteIfExists(path(digest));
    }

    @Override
    public boolean quarantine(Digest digest) throws IOException {
        Path p = path(digest);
        try {
            Files.move(p, p.resolveSibling(p.getFileName() + BAD_SUFFIX), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    @Override
    public void forEach(Consumer<Digest> visitor) throws IOException {
        try (DirectoryStream<Path> prefixes = Files.newDirectoryStream(root)) {
            for (Path prefix : prefixes) {
                String p = prefix.getFileName().toString();
                if (p.length() != 4 || !Files.isDirectory(prefix)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(prefix)) {
                    for (Path f : files) {
                        String name = f.getFileName().toString();
                        if (Digest.isValidHex(name) && name.startsWith(p)) {
                            visitor.accept(Digest.parse(name));
                        }
                    }
                }
            }
        }
    }

    @Override
    public void sync() throws IOException {
        if (syncLevel == SyncLevel.FILESYSTEM) {
            LinuxIo.syncfs(root);
        }
    }
}
