package dev.coffer.agent.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/**
 * A private temp directory for one archive command (header files, trailer spool, digest table),
 * removed with everything in it on {@link #close}, so a failed command leaves nothing behind.
 */
public final class WorkDir implements AutoCloseable {

    private final Path dir;

    private WorkDir(Path dir) {
        this.dir = dir;
    }

    /** A new directory under the system temp directory, named with {@code prefix}. */
    public static WorkDir create(String prefix) throws IOException {
        return new WorkDir(Files.createTempDirectory(prefix));
    }

    public Path path() {
        return dir;
    }

    @Override
    public void close() throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
