package dev.coffer.chunker;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The Linux calls the JDK does not offer, through the FFM API (no JNI): {@code syncfs(2)}.
 *
 * <p>{@code syncfs} flushes one filesystem, which is what the {@code filesystem} sync level needs:
 * one call before publishing a restore point instead of an fsync per chunk file.
 */
public final class LinuxIo {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final int O_RDONLY = 0;
    private static final int O_DIRECTORY = 0x10000;
    private static final int O_CLOEXEC = 0x80000;

    private static final MethodHandle OPEN = LINKER.downcallHandle(LIBC.find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));
    private static final MethodHandle SYNCFS = LINKER.downcallHandle(LIBC.find("syncfs").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LIBC.find("close").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LIBC.find("strerror").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private LinuxIo() {}

    /** Flushes the whole filesystem that holds {@code dir} to stable storage. */
    public static void syncfs(Path dir) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment path = arena.allocateFrom(dir.toAbsolutePath().toString());
            int fd = (int) OPEN.invokeExact(state, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
            if (fd < 0) {
                throw new IOException("cannot open " + dir + " to sync it: " + strerror((int) ERRNO.get(state, 0L)));
            }
            try {
                int rc = (int) SYNCFS.invokeExact(state, fd);
                if (rc != 0) {
                    throw new IOException("syncfs of " + dir + " failed: " + strerror((int) ERRNO.get(state, 0L)));
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("syncfs of " + dir + " failed", t);
        }
    }

    private static String strerror(int errno) throws Throwable {
        MemorySegment msg = (MemorySegment) STRERROR.invokeExact(errno);
        return msg.reinterpret(256).getString(0) + " (errno " + errno + ")";
    }
}
