package dev.coffer.store.datastore;

import java.nio.file.Path;

/**
 * A group: the restore points of one VM (or other source), {@code [ns/…/]type/id}.
 *
 * <p>Validated on construction, so holding one proves its path parts are safe to join to a
 * datastore directory.
 *
 * @param ns the namespace path ("" for the root)
 */
public record GroupRef(String ns, String type, String id) {

    public GroupRef {
        ns = Names.namespace(ns);
        Names.type(type);
        if (type.equals("ns")) {
            throw new Names.InvalidNameException("group type 'ns' is reserved for namespaces");
        }
        Names.id(id);
    }

    /** Parses {@code type/id} in namespace {@code ns}. */
    public static GroupRef parse(String ns, String group) {
        int slash = group == null ? -1 : group.indexOf('/');
        if (slash < 0) {
            throw new Names.InvalidNameException("group '" + Names.printable(group) + "' is not of the form type/id, such as vm/101");
        }
        return new GroupRef(ns, group.substring(0, slash), group.substring(slash + 1));
    }

    /** The directory of this group relative to the datastore: {@code ns/a/ns/b/vm/101}. */
    public Path relativePath() {
        Path p = Path.of("");
        if (!ns.isEmpty()) {
            for (String part : ns.split("/")) {
                p = p.resolve("ns").resolve(part);
            }
        }
        return p.resolve(type).resolve(id);
    }

    /** {@code type/id}, without the namespace. */
    public String name() {
        return type + "/" + id;
    }

    @Override
    public String toString() {
        return ns.isEmpty() ? name() : "ns/" + ns.replace("/", "/ns/") + "/" + name();
    }
}
