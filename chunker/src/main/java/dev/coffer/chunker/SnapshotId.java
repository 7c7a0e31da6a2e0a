package dev.coffer.chunker;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Names one restore point: {@code [ns/<name>/…]<type>/<id>/<UTC time, seconds>}, for example
 * {@code ns/site-a/vm/101/2026-11-22T10:00:00Z}. The path is both the directory on the datastore and
 * the name in manifests ({@code parent}), CLI output and the API, so it is parsed and printed in
 * exactly one place, and every component is checked before it can reach a file system.
 *
 * @param ns the namespace, components joined by {@code /} ({@code "a/b"}), or null for the root
 * @param type the group's type, such as {@code vm}
 * @param id the group's id, such as {@code 101}
 * @param time the backup time, whole seconds, from 1970 to 9999
 */
public record SnapshotId(String ns, String type, String id, Instant time) {

    /** Namespaces nest at most this deep (as in PBS). */
    public static final int MAX_NS_DEPTH = Names.MAX_NS_DEPTH;

    private static final Pattern TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z");
    private static final Instant MAX_TIME = Instant.parse("9999-12-31T23:59:59Z");

    /** @throws IllegalArgumentException if a component is not a valid name or the time not whole seconds */
    public SnapshotId {
        Names.namespace(ns);
        Names.type(type);
        Names.id(id);
        Objects.requireNonNull(time, "time");
        checkTime(time);
    }

    /** The restore point {@code time} of {@code group}. */
    public static SnapshotId of(GroupId group, Instant time) {
        return new SnapshotId(group.ns(), group.type(), group.id(), time);
    }

    /** The group of this restore point. */
    public GroupId group() {
        return new GroupId(ns, type, id);
    }

    /** The group of this restore point: {@code [ns/<name>/…]<type>/<id>}. */
    public String groupPath() {
        return group().path();
    }

    /** The directory of this restore point relative to a datastore. */
    public java.nio.file.Path relativePath() {
        return java.nio.file.Path.of(path());
    }

    /** The restore point's path: {@code [ns/<name>/…]<type>/<id>/<time>}. */
    public String path() {
        return groupPath() + "/" + formatTime(time);
    }

    @Override
    public String toString() {
        return path();
    }

    /**
     * Parses a restore point path as {@link #path()} prints it.
     *
     * @throws IllegalArgumentException if it is not one
     */
    public static SnapshotId parsePath(String path) {
        String[] parts = path.split("/", -1);
        List<String> ns = new ArrayList<>();
        int i = 0;
        while (parts.length - i > 3 && parts[i].equals("ns")) {
            ns.add(parts[i + 1]);
            i += 2;
        }
        if (parts.length - i != 3) {
            throw new Names.InvalidNameException("not a restore point path [ns/<name>/...]<type>/<id>/<time>: '" + path + "'");
        }
        return new SnapshotId(ns.isEmpty() ? null : String.join("/", ns), parts[i], parts[i + 1], parseTime(parts[i + 2]));
    }

    /** RFC 3339 UTC in whole seconds, {@code 2026-11-22T10:00:00Z}: the only time form Coffer writes. */
    public static String formatTime(Instant time) {
        checkTime(time);
        return DateTimeFormatter.ISO_INSTANT.format(time);
    }

    /**
     * Parses exactly the form {@link #formatTime} prints.
     *
     * @throws IllegalArgumentException for any other text
     */
    public static Instant parseTime(String text) {
        if (!TIME.matcher(text).matches()) {
            throw new Names.InvalidNameException("not an RFC 3339 UTC time in seconds (2026-11-22T10:00:00Z): '" + text + "'");
        }
        try {
            return checkTime(Instant.parse(text));
        } catch (DateTimeException e) {
            throw new Names.InvalidNameException("not a valid time: '" + text + "'", e);
        }
    }

    private static Instant checkTime(Instant time) {
        if (time.getNano() != 0 || time.isBefore(Instant.EPOCH) || time.isAfter(MAX_TIME)) {
            throw new Names.InvalidNameException("a restore point time is whole seconds from 1970 to 9999, got " + time);
        }
        return time;
    }
}
