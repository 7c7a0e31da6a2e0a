package dev.coffer.agent.io;

import dev.coffer.chunker.ErrnoException;
import dev.coffer.chunker.FixedIndex;
import dev.coffer.chunker.LinuxIo;
import dev.coffer.chunker.NativeFile;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.LongAdder;

/**
 * A raw disk image file or a block device as a backup source: its size, where its data lies, and
 * its chunks.
 *
 * <p>Why it exists: DESIGN.md's "what is read" rule says file holes found with {@code SEEK_HOLE}
 * are skipped unread, so a 1 TiB sparse image with 10 GiB written costs 10 GiB of reads and
 * hashing, not 1 TiB. The holes come from {@code SEEK_DATA}/{@code SEEK_HOLE} on a descriptor of our
 * own ({@link NativeFile}); data is read through a {@link FileChannel} into the caller's array. A
 * block device, or a filesystem that does not know {@code SEEK_DATA} (EINVAL or EOPNOTSUPP), is one
 * data extent covering everything, which is always correct, only slower.
 *
 * <p>The size is fixed when the source is opened; the file must not change while it is read (back up
 * a snapshot or a stopped VM's image). {@link #readChunk} may be called from several threads at
 * once; a {@link ChunkMap} belongs to one thread.
 */
public final class FileSource implements AutoCloseable {

    /** Receives one data extent {@code [offset, offset + length)}; may throw to stop the walk. */
    @FunctionalInterface
    public interface ExtentVisitor {
        void visit(long offset, long length) throws IOException;
    }

    private final Path path;
    private final boolean blockDevice;
    private final NativeFile nativeFile;
    private final FileChannel channel;
    private final long size;
    private volatile boolean holesUnknown;
    private final LongAdder seekCalls = new LongAdder();
    private final LongAdder chunkReads = new LongAdder();

    private FileSource(Path path, boolean blockDevice, NativeFile nativeFile, FileChannel channel, long size) {
        this.path = path;
        this.blockDevice = blockDevice;
        this.nativeFile = nativeFile;
        this.channel = channel;
        this.size = size;
        this.holesUnknown = blockDevice;
    }

    /**
     * Opens a regular file or a block device (symlinks followed) for reading.
     *
     * @throws java.nio.file.NoSuchFileException if nothing is at {@code path}
     * @throws IOException if {@code path} is something else, e.g. a directory, or cannot be opened
     */
    public static FileSource open(Path path) throws IOException {
        FileKind kind = FileKind.of(path);
        if (kind != FileKind.REGULAR && kind != FileKind.BLOCK_DEVICE) {
            throw new IOException("cannot back up " + path + ": it is " + kind.description()
                    + ", not a regular file or a block device");
        }
        boolean device = kind == FileKind.BLOCK_DEVICE;
        NativeFile nativeFile = NativeFile.openReadOnly(path);
        FileChannel channel = null;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
            long size = device ? nativeFile.blockDeviceSize() : channel.size();
            return new FileSource(path, device, nativeFile, channel, size);
        } catch (IOException | RuntimeException e) {
            nativeFile.close();
            if (channel != null) {
                channel.close();
            }
            throw e;
        }
    }

    /** The path the source was opened on. */
    public Path path() {
        return path;
    }

    /** The disk size in bytes, as it was when the source was opened. */
    public long size() {
        return size;
    }

    /** Whether this is a block device (no hole information: everything is data). */
    public boolean isBlockDevice() {
        return blockDevice;
    }

    /** A cursor that tells, chunk after chunk, which chunks are all hole; see {@link ChunkMap}. */
    public ChunkMap chunkMap(int chunkSize) {
        return new ChunkMap(this, chunkSize);
    }

    /**
     * Calls {@code visitor} for each data extent in order, two {@code lseek} calls per extent. The
     * extents are the filesystem's (block granular, so they may include zeros around the written
     * bytes); everything between them reads as zeros.
     *
     * @throws IOException if a seek fails or the file changes under the walk
     */
    public void forEachDataExtent(ExtentVisitor visitor) throws IOException {
        long pos = 0;
        while (pos < size) {
            long start = nextData(pos);
            if (start >= size) {
                return;
            }
            long end = nextHole(start);
            if (end <= start) {
                throw new IOException(path + " changed while its extents were walked: no data at " + start + " any more");
            }
            visitor.visit(start, end - start);
            pos = end;
        }
    }

    /**
     * Whether {@code [offset, offset + length)} is entirely a hole (one {@code SEEK_DATA} call), so a
     * chunk there can be named by the zero digest without reading it. Always false on a block device.
     *
     * @throws IllegalArgumentException if the range is not inside the disk
     */
    public boolean isHole(long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") is outside " + path
                    + " of " + size + " bytes");
        }
        return length == 0 || nextData(offset) >= offset + length;
    }

    /**
     * Reads chunk {@code index} (of {@code chunkSize} bytes; the last one may be shorter) completely
     * into the start of {@code buf}.
     *
     * @return the chunk's length
     * @throws EOFException if the file ends before the chunk does (it shrank since it was opened),
     *     naming the path and the offset
     * @throws IllegalArgumentException if {@code chunkSize} is not a valid chunk size or {@code buf}
     *     is shorter than the chunk
     * @throws IndexOutOfBoundsException if there is no chunk {@code index}
     */
    public int readChunk(long index, int chunkSize, byte[] buf) throws IOException {
        int length = FixedIndex.chunkLength(size, chunkSize, index);
        if (buf.length < length) {
            throw new IllegalArgumentException("buffer of " + buf.length + " bytes for a chunk of " + length);
        }
        long offset = index * chunkSize;
        chunkReads.increment();
        ByteBuffer dst = ByteBuffer.wrap(buf, 0, length);
        while (dst.hasRemaining()) {
            long at = offset + dst.position();
            if (channel.read(dst, at) < 0) {
                throw new EOFException(path + " ends at offset " + at + " but chunk " + index + " needs ["
                        + offset + ", " + (offset + length) + "): the file shrank after it was opened at "
                        + size + " bytes");
            }
        }
        return length;
    }

    /** Closes both descriptors. */
    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            nativeFile.close();
        }
    }

    /** The first data offset at or after {@code offset}, or {@link #size} if there is none. */
    long nextData(long offset) throws IOException {
        if (offset >= size) {
            return size;
        }
        if (holesUnknown) {
            return offset;
        }
        seekCalls.increment();
        try {
            long data = nativeFile.seekData(offset);
            return data < 0 ? size : Math.min(data, size);
        } catch (ErrnoException e) {
            if (notSupported(e)) {
                holesUnknown = true;
                return offset;
            }
            throw e;
        }
    }

    /** The end of the data extent that holds {@code offset} (the next hole, or {@link #size}). */
    long nextHole(long offset) throws IOException {
        if (offset >= size || holesUnknown) {
            return size;
        }
        seekCalls.increment();
        try {
            long hole = nativeFile.seekHole(offset);
            return hole < 0 ? size : Math.min(hole, size);
        } catch (ErrnoException e) {
            if (notSupported(e)) {
                holesUnknown = true;
                return size;
            }
            throw e;
        }
    }

    /** How many {@code lseek} calls this source has made: tests prove the walk is O(extents). */
    long seekCalls() {
        return seekCalls.sum();
    }

    /** How many chunks have been read: tests prove holes are skipped unread. */
    long chunkReads() {
        return chunkReads.sum();
    }

    private static boolean notSupported(ErrnoException e) {
        return e.errno() == LinuxIo.EINVAL || e.errno() == LinuxIo.EOPNOTSUPP;
    }
}
