package dev.coffer.agent.io;

import dev.coffer.chunker.AtomicFiles;
import dev.coffer.chunker.ErrnoException;
import dev.coffer.chunker.LinuxIo;
import dev.coffer.chunker.NativeFile;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where a restored disk is written: a sparse regular file, or an existing block device.
 *
 * <p>Why the two differ: DESIGN.md says a zero chunk is restored as a hole in a file and as real zeros
 * elsewhere, never with TRIM/discard, whose contents afterwards are undefined. A file is created (or,
 * only when the caller says {@code overwrite}, truncated) to the disk size, so it starts as one hole
 * and zero chunks cost nothing; over written data {@link #writeZeroes} punches a hole. A block device
 * must already be at least the disk size (bytes past the disk are left alone); it is opened with
 * {@code O_EXCL}, so a mounted device is refused, and zero chunks are written as zeros in 1 MiB
 * blocks.
 *
 * <p>Chunk writes bypass the page cache ({@code O_DIRECT}, see {@link DirectWriter}) wherever the
 * filesystem allows it: a restore reads nothing back, and copying a whole disk into page-cache pages
 * cost more CPU than decoding it. Unaligned writes (a disk's odd-sized tail) and filesystems without
 * {@code O_DIRECT} go through the page cache.
 *
 * <p>A restore never silently destroys a file: a non-empty regular file is refused unless the caller
 * passes {@code overwrite}. Positional writes may come from several threads at once; {@link #close}
 * comes after all of them and does not flush: call {@link #flush} for durability.
 */
public final class FileTarget implements AutoCloseable {

    private static final int ZERO_BLOCK = 1 << 20;

    private final Path path;
    private final boolean blockDevice;
    private final boolean created;
    private final long size;
    private final NativeFile nativeFile;
    private final FileChannel channel;
    /** The same file opened {@code O_DIRECT} for aligned writes, or null where the filesystem refuses it. */
    private final DirectWriter direct;
    private ByteBuffer zeros;
    private volatile boolean punchUnsupported;
    private volatile boolean directorySynced;
    private final LongAdder holesPunched = new LongAdder();

    private FileTarget(Path path, boolean blockDevice, boolean created, long size, NativeFile nativeFile,
            FileChannel channel, DirectWriter direct) {
        this.path = path;
        this.direct = direct;
        this.blockDevice = blockDevice;
        this.created = created;
        this.size = size;
        this.nativeFile = nativeFile;
        this.channel = channel;
    }

    /**
     * Opens {@code path} as the target for a disk of {@code diskSize} bytes. A missing path becomes a
     * new sparse file; an empty regular file, or a non-empty one when {@code overwrite} is set, is
     * truncated and extended to {@code diskSize}, so it reads as zeros; a block device is used as it
     * is.
     *
     * @throws FileAlreadyExistsException if {@code path} is a non-empty regular file and
     *     {@code overwrite} is false
     * @throws IOException if a block device is smaller than {@code diskSize} (the message names both
     *     sizes), if {@code path} is something else, e.g. a directory, or if a device is busy (EBUSY)
     */
    public static FileTarget open(Path path, long diskSize, boolean overwrite) throws IOException {
        if (diskSize < 0) {
            throw new IllegalArgumentException("disk size must not be negative, got " + diskSize);
        }
        FileKind kind;
        boolean created = false;
        try {
            kind = FileKind.of(path);
        } catch (NoSuchFileException e) {
            Files.createFile(path);
            kind = FileKind.REGULAR;
            created = true;
        }
        switch (kind) {
            case BLOCK_DEVICE:
                return openDevice(path, diskSize);
            case REGULAR:
                try {
                    return openFile(path, diskSize, overwrite, created);
                } catch (IOException | RuntimeException e) {
                    if (created) {
                        Files.deleteIfExists(path); // a failed open leaves no file of its own making
                    }
                    throw e;
                }
            default:
                throw new IOException("cannot restore to " + path + ": it is " + kind.description()
                        + ", not a regular file or a block device");
        }
    }

    private static FileTarget openFile(Path path, long diskSize, boolean overwrite, boolean created)
            throws IOException {
        long existing = Files.size(path);
        if (existing > 0 && !overwrite) {
            throw new FileAlreadyExistsException(path.toString(), null, "it holds " + existing
                    + " bytes; a restore replaces an existing file only when told to overwrite it (--overwrite)");
        }
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
            raf.setLength(0); // drop every block, so the whole disk starts as one hole
            raf.setLength(diskSize);
        }
        return withDescriptors(path, false, created, diskSize, NativeFile.openReadWrite(path));
    }

    private static FileTarget openDevice(Path path, long diskSize) throws IOException {
        NativeFile nativeFile = NativeFile.openDeviceExclusive(path);
        try {
            long deviceSize = nativeFile.blockDeviceSize();
            if (deviceSize < diskSize) {
                throw new IOException("cannot restore to " + path + ": the block device holds " + deviceSize
                        + " bytes but the disk needs " + diskSize + " bytes");
            }
        } catch (IOException | RuntimeException e) {
            nativeFile.close();
            throw e;
        }
        return withDescriptors(path, true, false, diskSize, nativeFile);
    }

    private static FileTarget withDescriptors(Path path, boolean device, boolean created, long size,
            NativeFile nativeFile) throws IOException {
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE);
            return new FileTarget(path, device, created, size, nativeFile, channel, DirectWriter.open(path));
        } catch (IOException | RuntimeException e) {
            nativeFile.close();
            throw e;
        }
    }

    /** The path the target was opened on. */
    public Path path() {
        return path;
    }

    /** The disk size in bytes: every write lies inside {@code [0, size)}. */
    public long size() {
        return size;
    }

    /** Whether this is a block device (zeros are written, never punched). */
    public boolean isBlockDevice() {
        return blockDevice;
    }

    /**
     * Writes {@code buf[off, off + len)} at {@code offset}, completely.
     *
     * @throws IllegalArgumentException if the range lies outside the disk
     */
    public void write(long offset, byte[] buf, int off, int len) throws IOException {
        checkRange(offset, len);
        if (direct != null && direct.write(offset, buf, off, len)) {
            return;
        }
        writeFully(ByteBuffer.wrap(buf, off, len), offset);
    }

    /** Whether aligned writes bypass the page cache ({@code O_DIRECT}); false on filesystems that refuse it. */
    public boolean writesDirect() {
        return direct != null;
    }

    /**
     * Makes {@code [offset, offset + len)} read as zeros: nothing if it already is a hole (a fresh
     * file), a punched hole in a file, real zeros on a block device or where the filesystem cannot
     * punch holes.
     *
     * @throws IllegalArgumentException if the range lies outside the disk
     */
    public void writeZeroes(long offset, long len) throws IOException {
        checkRange(offset, len);
        if (len == 0 || readsZeroes(offset, len)) {
            return;
        }
        if (!blockDevice && !punchUnsupported) {
            try {
                nativeFile.punchHole(offset, len);
                holesPunched.increment();
                return;
            } catch (ErrnoException e) {
                if (e.errno() != LinuxIo.EOPNOTSUPP) {
                    throw e;
                }
                punchUnsupported = true;
            }
        }
        ByteBuffer block = zeroBlock();
        for (long done = 0; done < len; ) {
            int n = (int) Math.min(ZERO_BLOCK, len - done);
            block.clear().limit(n);
            if (direct == null || !direct.write(offset + done, block)) {
                writeFully(block, offset + done);
            }
            done += n;
        }
    }

    /**
     * Whether {@code [offset, offset + len)} is known to read as zeros without writing: true when the
     * range is entirely a hole of a regular file (one {@code SEEK_DATA} call). Never true on a block
     * device, whose contents are unknown.
     */
    public boolean readsZeroes(long offset, long len) throws IOException {
        checkRange(offset, len);
        if (blockDevice) {
            return false;
        }
        try {
            long data = nativeFile.seekData(offset);
            return data < 0 || data >= offset + len;
        } catch (ErrnoException e) {
            if (e.errno() == LinuxIo.EINVAL || e.errno() == LinuxIo.EOPNOTSUPP) {
                return false; // the filesystem does not tell: write the zeros
            }
            throw e;
        }
    }

    /**
     * Makes everything written so far durable ({@code fsync}); the first flush of a file this target
     * created also syncs its directory, so the new name survives a crash too.
     */
    public void flush() throws IOException {
        channel.force(true);
        if (created && !directorySynced) {
            AtomicFiles.fsyncDirectory(path.toAbsolutePath().getParent());
            directorySynced = true;
        }
    }

    /** Closes every descriptor without flushing. */
    @Override
    public void close() throws IOException {
        try (nativeFile; direct) {
            channel.close();
        }
    }

    /** How many holes were punched: tests prove a fresh file needs none. */
    long holesPunched() {
        return holesPunched.sum();
    }

    private void checkRange(long offset, long len) {
        if (offset < 0 || len < 0 || offset > size - len) {
            throw new IllegalArgumentException("range [" + offset + ", +" + len + ") is outside the " + size
                    + "-byte disk at " + path);
        }
    }

    private void writeFully(ByteBuffer src, long offset) throws IOException {
        long at = offset;
        while (src.hasRemaining()) {
            at += channel.write(src, at);
        }
    }

    /** A private view of one shared direct 1 MiB block of zeros, aligned for O_DIRECT: no copy per write, no heap churn. */
    private synchronized ByteBuffer zeroBlock() {
        if (zeros == null) {
            zeros = ByteBuffer.allocateDirect(ZERO_BLOCK + DirectWriter.ALIGNMENT).alignedSlice(DirectWriter.ALIGNMENT).limit(ZERO_BLOCK);
        }
        return zeros.duplicate();
    }
}
