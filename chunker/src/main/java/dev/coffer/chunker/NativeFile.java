package dev.coffer.chunker;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;

/**
 * A file descriptor of our own, opened with {@code open(2)}, for the calls
 * {@link java.nio.channels.FileChannel} cannot make: walking data and holes with
 * {@code SEEK_DATA}/{@code SEEK_HOLE}, punching holes, and asking a block device its size.
 *
 * <p>It moves no data: pair it with a {@code FileChannel} on the same path for positional reads and
 * writes. The calls never touch the descriptor's file offset in a way others rely on ({@code lseek}
 * moves it, but positional I/O ignores it), so they may come from several threads; {@link #close}
 * must come after all of them.
 */
public final class NativeFile implements AutoCloseable {

    private final Path path;
    private int fd;

    private NativeFile(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /**
     * Opens {@code path} read-only.
     *
     * @throws ErrnoException if {@code open(2)} fails, e.g. errno 2 when the file does not exist
     */
    public static NativeFile openReadOnly(Path path) throws IOException {
        return new NativeFile(path, LinuxIo.open(path, LinuxIo.O_RDONLY, "cannot open " + path));
    }

    /**
     * Opens an existing {@code path} for reading and writing (it is never created).
     *
     * @throws ErrnoException if {@code open(2)} fails
     */
    public static NativeFile openReadWrite(Path path) throws IOException {
        return new NativeFile(path, LinuxIo.open(path, LinuxIo.O_RDWR, "cannot open " + path + " for writing"));
    }

    /**
     * Opens an existing block device for reading and writing with {@code O_EXCL}, which Linux turns
     * into an exclusive claim: it fails with EBUSY (errno 16) while the device is mounted, in use by
     * device-mapper or RAID, or claimed by another exclusive opener, so a restore cannot write under
     * a live filesystem.
     *
     * @throws ErrnoException if {@code open(2)} fails
     */
    public static NativeFile openDeviceExclusive(Path path) throws IOException {
        return new NativeFile(path, LinuxIo.open(path, LinuxIo.O_RDWR | LinuxIo.O_EXCL,
                "cannot open " + path + " exclusively for writing"));
    }

    /** The path this descriptor was opened on. */
    public Path path() {
        return path;
    }

    /**
     * The first offset at or after {@code offset} that holds data, or -1 when there is none (ENXIO:
     * {@code offset} is at or after the last data). A filesystem that does not track holes reports
     * the whole file as data.
     *
     * @throws ErrnoException on any other failure, e.g. EINVAL where {@code SEEK_DATA} is unknown
     */
    public long seekData(long offset) throws IOException {
        return seek(offset, LinuxIo.SEEK_DATA);
    }

    /**
     * The first offset at or after {@code offset} inside a hole, counting the end of the file as a
     * hole, or -1 when {@code offset} is at or after the end (ENXIO).
     *
     * @throws ErrnoException on any other failure
     */
    public long seekHole(long offset) throws IOException {
        return seek(offset, LinuxIo.SEEK_HOLE);
    }

    /**
     * Deallocates {@code [offset, offset + length)} so it reads back as zeros, keeping the file size
     * ({@code FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE}). Partial blocks at the edges are zeroed
     * in place by the filesystem.
     *
     * @throws ErrnoException on failure, e.g. EOPNOTSUPP (errno 95) where the filesystem cannot punch
     */
    public void punchHole(long offset, long length) throws IOException {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("bad range: offset " + offset + ", length " + length);
        }
        if (length == 0) {
            return;
        }
        LinuxIo.fallocate(fd(), LinuxIo.FALLOC_FL_PUNCH_HOLE | LinuxIo.FALLOC_FL_KEEP_SIZE, offset, length, path);
    }

    /**
     * The size in bytes of the block device open here ({@code ioctl BLKGETSIZE64}).
     *
     * @throws ErrnoException if this is not a block device (ENOTTY) or the call fails
     */
    public long blockDeviceSize() throws IOException {
        return LinuxIo.blockDeviceSize(fd(), path);
    }

    /** Closes the descriptor; closing twice does nothing. */
    @Override
    public synchronized void close() {
        if (fd >= 0) {
            LinuxIo.close(fd);
            fd = -1;
        }
    }

    private long seek(long offset, int whence) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must not be negative, got " + offset);
        }
        try {
            return LinuxIo.lseek(fd(), offset, whence, path);
        } catch (ErrnoException e) {
            if (e.errno() == LinuxIo.ENXIO) {
                return -1;
            }
            throw e;
        }
    }

    private synchronized int fd() throws IOException {
        if (fd < 0) {
            throw new ClosedChannelException();
        }
        return fd;
    }
}
