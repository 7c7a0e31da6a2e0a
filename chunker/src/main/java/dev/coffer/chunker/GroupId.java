package dev.coffer.chunker;

import java.nio.file.Path;

/**
 * A group: the restore points of one VM (or other source), {@code [ns/<name>/…]type/id}.
 *
 * <p>Validated on construction, so holding one proves its parts are safe to join to a datastore
 * directory.
 *
 * @param ns the namespace path ({@code a/b}), or null for the root namespace
 */
public record GroupId(String ns, String type, String id) {

    public GroupId {
        Names.namespace(ns);
        Names.type(type);
        Names.id(id);
    }

    /**
     * Parses {@code type/id} in namespace {@code ns}.
     *
     * @throws Names.InvalidNameException when it is not one
     */
    public static GroupId parse(String ns, String group) {
        int slash = group == null ? -1 : group.indexOf('/');
        if (slash < 0) {
            throw new Names.InvalidNameException("group '" + Names.printable(group) + "' is not of the form type/id, such as vm/101");
        }
        return new GroupId(ns, group.substring(0, slash), group.substring(slash + 1));
    }

    /** The group's path, {@code [ns/<name>/…]type/id}: its directory in a datastore and its name in output. */
    public String path() {
        String nsPath = namespacePath(ns);
        return (nsPath.isEmpty() ? "" : nsPath + "/") + type + "/" + id;
    }

    /** The directory of a namespace relative to a datastore, {@code ns/a/ns/b}; "" for the root (null). */
    public static String namespacePath(String ns) {
        if (ns == null) {
            return "";
        }
        Names.namespace(ns);
        StringBuilder sb = new StringBuilder();
        for (String part : ns.split("/")) {
            sb.append(sb.isEmpty() ? "" : "/").append("ns/").append(part);
        }
        return sb.toString();
    }

    /** The directory of this group relative to a datastore. */
    public Path relativePath() {
        return Path.of(path());
    }

    /** {@code type/id}, without the namespace. */
    public String name() {
        return type + "/" + id;
    }

    @Override
    public String toString() {
        return path();
    }
}
