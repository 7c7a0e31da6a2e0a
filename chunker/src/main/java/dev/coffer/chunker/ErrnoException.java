package dev.coffer.chunker;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A failed Linux call made through {@link LinuxIo}: the message names the path and the error, and
 * {@link #errno()} lets a caller tell "not supported here" from a real failure without parsing text.
 */
public final class ErrnoException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path path;
    private final int errno;

    /**
     * @param what what failed, naming the path, e.g. {@code cannot open /dev/vdb}
     * @param path the file the call was about
     * @param errno the {@code errno} the call left
     */
    public ErrnoException(String what, Path path, int errno) {
        super(what + ": " + LinuxIo.describe(errno));
        this.path = path;
        this.errno = errno;
    }

    /** The {@code errno} value, e.g. 2 for ENOENT. */
    public int errno() {
        return errno;
    }

    /** The file the failed call was about. */
    public Path path() {
        return path;
    }
}
