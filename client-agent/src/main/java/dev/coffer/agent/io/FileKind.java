package dev.coffer.agent.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a path names, from {@code st_mode} (symlinks followed): the JDK has no "is block device". */
enum FileKind {
    REGULAR("a regular file"),
    BLOCK_DEVICE("a block device"),
    DIRECTORY("a directory"),
    CHARACTER_DEVICE("a character device"),
    OTHER("neither a regular file nor a block device");

    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;

    private final String description;

    FileKind(String description) {
        this.description = description;
    }

    /**
     * The kind of file {@code path} names.
     *
     * @throws java.nio.file.NoSuchFileException if nothing is there
     */
    static FileKind of(Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode");
        return switch (mode & S_IFMT) {
            case S_IFREG -> REGULAR;
            case S_IFBLK -> BLOCK_DEVICE;
            case S_IFDIR -> DIRECTORY;
            case S_IFCHR -> CHARACTER_DEVICE;
            default -> OTHER;
        };
    }

    /** For error messages: "a directory". */
    String description() {
        return description;
    }
}
