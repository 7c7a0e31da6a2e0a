package dev.coffer.chunker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Crash-safe whole-file writes: temp file in the same directory, write, fsync, rename, fsync the
 * directory. A crash at any point leaves either no file or the complete one, never half of it.
 */
public final class AtomicFiles {

    private AtomicFiles() {}

    /**
     * Writes {@code bytes} to a new file at {@code target} with the given POSIX permissions
     * (e.g. {@code rw-------}), failing if the target already exists.
     */
    public static void writeNew(Path target, byte[] bytes, String permissions) throws IOException {
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "refusing to overwrite");
        }
        write(target, bytes, permissions, false);
    }

    /** Writes or replaces the file at {@code target} atomically. */
    public static void replace(Path target, byte[] bytes) throws IOException {
        write(target, bytes, null, true);
    }

    /**
     * Writes or replaces the file at {@code target} atomically with the given POSIX permissions.
     * The permissions are set on the temp file before any byte is written, so a secret never
     * sits in a file that others may read, not even for a moment.
     */
    public static void replace(Path target, byte[] bytes, String permissions) throws IOException {
        write(target, bytes, permissions, true);
    }

    private static void write(Path target, byte[] bytes, String permissions, boolean replace) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                if (permissions != null) {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(permissions));
                }
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            if (replace) {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                // no REPLACE_EXISTING: a concurrent creator wins and we fail rather than clobber it
                Files.createLink(target, tmp);
                Files.delete(tmp);
            }
            fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** fsyncs a directory so a rename or create inside it survives a crash. */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
