package dev.coffer.chunker;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The Linux calls the JDK does not offer, through the FFM API (no JNI): {@code syncfs(2)}, and on a
 * file descriptor of our own {@code lseek(2)} with {@code SEEK_DATA}/{@code SEEK_HOLE},
 * {@code fallocate(2)} hole punching and the {@code BLKGETSIZE64} ioctl.
 *
 * <p>{@code syncfs} flushes one filesystem, which is what the {@code filesystem} sync level needs:
 * one call before publishing a restore point instead of an fsync per chunk file. The descriptor calls
 * let a backup skip file holes unread and a restore leave zero chunks as holes; {@link NativeFile}
 * is their public face, because {@link java.nio.channels.FileChannel} never hands out its descriptor.
 *
 * <p>Every failure is an {@link ErrnoException} that names the path and carries {@code errno}. The
 * flag values are Linux x86-64's ({@code O_DIRECTORY} differs on arm64). The downcalls are restricted
 * methods: the JVM should run with {@code --enable-native-access=ALL-UNNAMED} (surefire passes it;
 * without it JDK 25 prints a warning at the first call and goes on), so the compiler's "restricted"
 * warning is suppressed here, in the one class that makes them.
 */
@SuppressWarnings("restricted")
public final class LinuxIo {

    /** {@code lseek} whence: the next offset at or after the given one that holds data. */
    public static final int SEEK_DATA = 3;
    /** {@code lseek} whence: the next offset at or after the given one inside a hole (or the end). */
    public static final int SEEK_HOLE = 4;

    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** No such device or address: what {@code SEEK_DATA}/{@code SEEK_HOLE} answer at or past the end. */
    public static final int ENXIO = 6;
    /** Bad file descriptor, e.g. punching a hole through a read-only descriptor. */
    public static final int EBADF = 9;
    /** Device or resource busy: an exclusive open of a block device that is mounted or claimed. */
    public static final int EBUSY = 16;
    /** Invalid argument: among others, a filesystem that does not know {@code SEEK_DATA}. */
    public static final int EINVAL = 22;
    /** Not a typewriter: an ioctl the file does not understand, e.g. a block device ioctl on a file. */
    public static final int ENOTTY = 25;
    /** Operation not supported, e.g. hole punching on a filesystem that cannot. */
    public static final int EOPNOTSUPP = 95;

    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_EXCL = 0x80;
    static final int O_DIRECTORY = 0x10000;
    static final int O_CLOEXEC = 0x80000;
    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    /** {@code _IOR(0x12, 114, size_t)}: the size of a block device in bytes. */
    static final long BLKGETSIZE64 = 0x80081272L;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = LINKER.downcallHandle(LIBC.find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2), ERRNO_OPTION);
    private static final MethodHandle SYNCFS = LINKER.downcallHandle(LIBC.find("syncfs").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO_OPTION);
    private static final MethodHandle LSEEK = LINKER.downcallHandle(LIBC.find("lseek").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), ERRNO_OPTION);
    private static final MethodHandle FALLOCATE = LINKER.downcallHandle(LIBC.find("fallocate").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), ERRNO_OPTION);
    private static final MethodHandle IOCTL = LINKER.downcallHandle(LIBC.find("ioctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2), ERRNO_OPTION);
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LIBC.find("close").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LIBC.find("strerror").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private LinuxIo() {}

    /**
     * Flushes the whole filesystem that holds {@code dir} to stable storage.
     *
     * @throws ErrnoException if the directory cannot be opened or the filesystem cannot be synced
     */
    public static void syncfs(Path dir) throws IOException {
        int fd = open(dir, O_RDONLY | O_DIRECTORY, "cannot open " + dir + " to sync it");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) SYNCFS.invokeExact(state, fd);
            if (rc != 0) {
                throw new ErrnoException("syncfs of " + dir + " failed", dir, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("syncfs of " + dir + " failed", t);
        } finally {
            close(fd);
        }
    }

    /** {@code open(2)} with {@code O_CLOEXEC} added; {@code what} starts the error message. */
    static int open(Path path, int flags, String what) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment name = arena.allocateFrom(path.toAbsolutePath().toString());
            int fd = (int) OPEN.invokeExact(state, name, flags | O_CLOEXEC, 0);
            if (fd < 0) {
                throw new ErrnoException(what, path, errno(state));
            }
            return fd;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(what, t);
        }
    }

    /** {@code lseek(2)}: the resulting offset; a failure (ENXIO included) throws. */
    static long lseek(int fd, long offset, int whence, Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long result = (long) LSEEK.invokeExact(state, fd, offset, whence);
            if (result < 0) {
                throw new ErrnoException("lseek(" + offset + ", " + whenceName(whence) + ") failed on " + path,
                        path, errno(state));
            }
            return result;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("lseek failed on " + path, t);
        }
    }

    /** {@code fallocate(2)} over {@code [offset, offset + length)}. */
    static void fallocate(int fd, int mode, long offset, long length, Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) FALLOCATE.invokeExact(state, fd, mode, offset, length);
            if (rc != 0) {
                throw new ErrnoException("fallocate(mode " + mode + ") of [" + offset + ", " + (offset + length)
                        + ") failed on " + path, path, errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("fallocate failed on " + path, t);
        }
    }

    /** The size of the block device open on {@code fd}, from {@code ioctl(BLKGETSIZE64)}. */
    static long blockDeviceSize(int fd, Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment size = arena.allocate(JAVA_LONG);
            int rc = (int) IOCTL.invokeExact(state, fd, BLKGETSIZE64, size);
            if (rc != 0) {
                throw new ErrnoException("cannot read the block device size of " + path, path, errno(state));
            }
            return size.get(JAVA_LONG, 0);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("cannot read the block device size of " + path, t);
        }
    }

    /** {@code close(2)}; its result is ignored, as the JDK does: the descriptor is gone either way. */
    static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close(" + fd + ") failed", t);
        }
    }

    /** {@code strerror(errno)} followed by the number, e.g. {@code No such file or directory (errno 2)}. */
    static String describe(int errno) {
        try {
            MemorySegment msg = (MemorySegment) STRERROR.invokeExact(errno);
            return msg.reinterpret(256).getString(0) + " (errno " + errno + ")";
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static String whenceName(int whence) {
        return switch (whence) {
            case SEEK_DATA -> "SEEK_DATA";
            case SEEK_HOLE -> "SEEK_HOLE";
            default -> "whence " + whence;
        };
    }
}
