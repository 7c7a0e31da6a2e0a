package dev.coffer.agent.cli;

import java.nio.file.Path;

/**
 * Disk source and target URIs as qemu-img and libnbd spell them. {@code file:/path} (or a plain
 * path) is served now; {@code nbd://}, {@code nbd+unix://} and {@code qmp:} get a clear error
 * until the NBD work lands.
 */
final class Sources {

    private Sources() {}

    /** The path of a {@code file:} URI or plain path; IllegalArgumentException for anything else. */
    static Path filePath(String uri) {
        if (uri.startsWith("file://")) {
            return Path.of(uri.substring("file://".length()));
        }
        if (uri.startsWith("file:")) {
            return Path.of(uri.substring("file:".length()));
        }
        if (uri.startsWith("nbd:") || uri.startsWith("nbd+unix:") || uri.startsWith("nbds:") || uri.startsWith("qmp:")) {
            throw new IllegalArgumentException("'" + uri + "': NBD and QMP sources are not supported by this version yet; "
                    + "use file:/path for image files and block devices");
        }
        if (uri.matches("^[a-z][a-z0-9+.-]*:.*") && !uri.startsWith("/")) {
            throw new IllegalArgumentException("'" + uri + "' is not a supported source: use file:/path");
        }
        return Path.of(uri);
    }
}
