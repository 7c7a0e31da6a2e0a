package dev.coffer.chunker;

import java.util.regex.Pattern;

/**
 * The one rule for names that become path components on a datastore (namespaces, types, ids, disk
 * and file names): letters, digits, {@code _ . -}, not starting with a dot or dash, at most 128
 * characters. A name that passes can never be {@code ..}, contain a separator, or hide a file.
 */
final class Names {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

    private Names() {}

    static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** @throws IllegalArgumentException naming {@code what} if the name is not valid */
    static String require(String what, String name) {
        if (!isValid(name)) {
            throw new IllegalArgumentException(what + " must be 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-', got "
                    + (name == null ? "null" : "'" + name + "'"));
        }
        return name;
    }
}
