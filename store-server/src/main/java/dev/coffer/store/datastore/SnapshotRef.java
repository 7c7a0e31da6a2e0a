package dev.coffer.store.datastore;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * One restore point: a group and a UTC time in whole seconds, {@code vm/101/2026-11-22T10:00:00Z}.
 * Its directory holds the manifest, one fixed index per disk and the config blobs.
 */
public record SnapshotRef(GroupRef group, Instant time) {

    public SnapshotRef {
        if (group == null || time == null) {
            throw new NullPointerException("group and time");
        }
        time = time.truncatedTo(ChronoUnit.SECONDS);
    }

    /**
     * Parses {@code [ns/<name>/…]type/id/time} as the CLI and the API print it.
     *
     * @throws Names.InvalidNameException when any part is invalid
     */
    public static SnapshotRef parse(String text) {
        String rest = text == null ? "" : text;
        StringBuilder ns = new StringBuilder();
        while (rest.startsWith("ns/")) {
            int next = rest.indexOf('/', 3);
            if (next < 0) {
                break;
            }
            if (!ns.isEmpty()) {
                ns.append('/');
            }
            ns.append(rest, 3, next);
            rest = rest.substring(next + 1);
        }
        String[] parts = rest.split("/", -1);
        if (parts.length != 3) {
            throw new Names.InvalidNameException("restore point '" + Names.printable(text)
                    + "' is not of the form [ns/NAME/]type/id/time, such as vm/101/2026-11-22T10:00:00Z");
        }
        return new SnapshotRef(new GroupRef(ns.toString(), parts[0], parts[1]), Names.time(parts[2]));
    }

    /** The directory relative to the datastore. */
    public Path relativePath() {
        return group.relativePath().resolve(Names.formatTime(time));
    }

    @Override
    public String toString() {
        return group + "/" + Names.formatTime(time);
    }
}
