package dev.coffer.chunker;

import java.util.regex.Pattern;

/**
 * Strict validation of every name that reaches the datastore from outside: datastore, namespace,
 * group type and id, disk and file names (restore point times: {@link SnapshotId#parseTime}).
 *
 * <p>Each of these becomes part of a path on disk, so a name is accepted only when it matches a
 * whitelist pattern that cannot express {@code ..}, {@code /}, a leading dot, control characters or
 * anything outside ASCII. A rejected name throws {@link InvalidNameException}, which the HTTP layer
 * turns into 400 before anything is touched.
 */
public final class Names {

    private Names() {}

    private static final Pattern DATASTORE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
    private static final Pattern NS_COMPONENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9]{0,15}");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern ITEM = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    /** How deep namespaces nest, like PBS. */
    public static final int MAX_NS_DEPTH = 7;

    /** Thrown for a name that fails validation; the message says which name and why. */
    public static final class InvalidNameException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public InvalidNameException(String message) {
            super(message);
        }

        public InvalidNameException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static String datastore(String name) {
        return check(DATASTORE, name, "datastore name", "letters, digits, '_' and '-', at most 64, starting with a letter or digit");
    }

    /** A namespace path such as {@code site-a/tenant1}; null is the root namespace. */
    public static String namespace(String ns) {
        if (ns == null) {
            return null;
        }
        String[] parts = ns.split("/", -1);
        if (parts.length > MAX_NS_DEPTH) {
            throw new InvalidNameException("namespace '" + printable(ns) + "' is nested deeper than " + MAX_NS_DEPTH + " levels");
        }
        for (String p : parts) {
            check(NS_COMPONENT, p, "namespace component", "letters, digits, '_', '.' and '-', at most 64, starting with a letter or digit");
        }
        return ns;
    }

    public static String type(String type) {
        check(TYPE, type, "group type", "lowercase letters and digits, at most 16, such as 'vm' or 'host'");
        if (type.equals("ns") || type.equals("chunks")) {
            throw new InvalidNameException("group type '" + type + "' is reserved: it names a datastore directory");
        }
        return type;
    }

    public static String id(String id) {
        return check(ID, id, "group id", "letters, digits, '_', '.' and '-', at most 128, starting with a letter or digit");
    }

    /** A disk name or a file name inside a restore point. */
    public static String item(String name) {
        return check(ITEM, name, "file or disk name", "letters, digits, '_', '.' and '-', at most 128, starting with a letter or digit");
    }


    private static String check(Pattern p, String value, String what, String rule) {
        if (value == null || !p.matcher(value).matches()) {
            throw new InvalidNameException(what + " '" + printable(value) + "' is invalid: " + rule);
        }
        return value;
    }

    /** The name as it may safely appear in a message: control and non-ASCII characters escaped, cut short. */
    public static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '\'') {
                b.append(c);
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return s.length() > 80 ? b + "…" : b.toString();
    }
}
