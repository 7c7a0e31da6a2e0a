package dev.coffer.agent.cli;

import dev.coffer.agent.nbd.NbdUri;
import java.nio.file.Path;

/**
 * Disk source and target URIs as qemu-img and libnbd spell them: {@code file:/path} (or a plain
 * path), {@code nbd://host[:port][/export]} and {@code nbd+unix:///export?socket=/path} as backup
 * sources; {@code qmp:} sources are handled by the backup command itself (a whole VM, with
 * {@code --drive}), so here they only get a clear error.
 */
final class Sources {

    private Sources() {}

    /** A parsed disk source: exactly one of {@code file} and {@code nbd} is set. */
    record Source(Path file, NbdUri nbd) {}

    /** Parses a backup source; IllegalArgumentException with a one-line reason for anything unsupported. */
    static Source source(String uri) {
        if (isNbd(uri)) {
            return new Source(null, NbdUri.parse(uri));
        }
        return new Source(filePath(uri), null);
    }

    static boolean isNbd(String uri) {
        return uri.startsWith("nbd:") || uri.startsWith("nbd+") || uri.startsWith("nbds:") || uri.startsWith("nbds+");
    }

    /** The path of a {@code file:} URI or plain path; IllegalArgumentException for anything else. */
    static Path filePath(String uri) {
        if (uri.startsWith("file://")) {
            return Path.of(uri.substring("file://".length()));
        }
        if (uri.startsWith("file:")) {
            return Path.of(uri.substring("file:".length()));
        }
        if (uri.startsWith("qmp:")) {
            throw new IllegalArgumentException("'" + uri + "': a qmp: source is the whole VM: give it as the only --source, "
                    + "with one --drive NAME per disk (see docs/backup.md)");
        }
        if (isNbd(uri)) {
            throw new IllegalArgumentException("'" + uri + "': NBD restore targets are not supported by this version yet; use file:/path");
        }
        if (uri.matches("^[a-z][a-z0-9+.-]*:.*") && !uri.startsWith("/")) {
            throw new IllegalArgumentException("'" + uri + "' is not a supported URI: use file:/path (backup sources may also be "
                    + "nbd://host[:port]/export or nbd+unix:///export?socket=/path)");
        }
        return Path.of(uri);
    }
}
