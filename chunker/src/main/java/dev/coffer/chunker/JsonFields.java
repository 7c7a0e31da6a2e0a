package dev.coffer.chunker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Typed reads of JSON fields that fail with a {@link FormatException.Malformed} naming the document
 * and the field path ({@code protected.disks[0].index.size}), so a bad manifest says exactly what
 * is wrong where. Unknown fields are simply never asked for, which is how they survive.
 */
final class JsonFields {

    private final String where;

    JsonFields(String where) {
        this.where = where;
    }

    FormatException.Malformed malformed(String path, String what) {
        return new FormatException.Malformed(where + " at " + (path.isEmpty() ? "(document)" : path), what);
    }

    /** The path of {@code field} inside the object at {@code path} ("" is the document). */
    static String child(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    ObjectNode object(JsonNode node, String path) throws FormatException {
        if (!(node instanceof ObjectNode o)) {
            throw malformed(path, "expected an object, got " + describe(node));
        }
        return o;
    }

    JsonNode required(ObjectNode parent, String field, String path) throws FormatException {
        JsonNode n = parent.get(field);
        if (n == null) {
            throw malformed(child(path, field), "required field is missing");
        }
        return n;
    }

    ObjectNode object(ObjectNode parent, String field, String path) throws FormatException {
        return object(required(parent, field, path), child(path, field));
    }

    /** An object or JSON null (returned as Java null); the field itself must be present. */
    ObjectNode objectOrNull(ObjectNode parent, String field, String path) throws FormatException {
        JsonNode n = required(parent, field, path);
        return n.isNull() ? null : object(n, child(path, field));
    }

    ArrayNode array(ObjectNode parent, String field, String path) throws FormatException {
        JsonNode n = required(parent, field, path);
        if (!(n instanceof ArrayNode a)) {
            throw malformed(child(path, field), "expected an array, got " + describe(n));
        }
        return a;
    }

    String text(ObjectNode parent, String field, String path) throws FormatException {
        JsonNode n = required(parent, field, path);
        if (!n.isTextual()) {
            throw malformed(child(path, field), "expected a string, got " + describe(n));
        }
        return n.textValue();
    }

    /** A string or JSON null (returned as Java null); the field itself must be present. */
    String textOrNull(ObjectNode parent, String field, String path) throws FormatException {
        JsonNode n = required(parent, field, path);
        return n.isNull() ? null : text(parent, field, path);
    }

    /** A string when the field is present (JSON null or absent: Java null), for fields added later. */
    String optionalText(ObjectNode parent, String field, String path) throws FormatException {
        JsonNode n = parent.get(field);
        return n == null || n.isNull() ? null : text(parent, field, path);
    }

    boolean bool(ObjectNode parent, String field, String path) throws FormatException {
        JsonNode n = required(parent, field, path);
        if (!n.isBoolean()) {
            throw malformed(child(path, field), "expected true or false, got " + describe(n));
        }
        return n.booleanValue();
    }

    long longValue(ObjectNode parent, String field, String path) throws FormatException {
        return longValue(required(parent, field, path), child(path, field));
    }

    long longValue(JsonNode n, String path) throws FormatException {
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw malformed(path, "expected an integer from -2^63 to 2^63-1, got " + describe(n));
        }
        return n.longValue();
    }

    long nonNegative(ObjectNode parent, String field, String path) throws FormatException {
        long v = longValue(parent, field, path);
        if (v < 0) {
            throw malformed(child(path, field), "must not be negative, got " + v);
        }
        return v;
    }

    /** An object whose every value is an integer, as a map in the object's order. */
    Map<String, Long> longMap(ObjectNode parent, String field, String path) throws FormatException {
        ObjectNode o = object(parent, field, path);
        Map<String, Long> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : o.properties()) {
            out.put(e.getKey(), longValue(e.getValue(), child(child(path, field), e.getKey())));
        }
        return out;
    }

    private static String describe(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing";
        }
        return switch (n.getNodeType()) {
            case OBJECT -> "an object";
            case ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "the number " + n;
            case BOOLEAN -> n.toString();
            case NULL -> "null";
            default -> n.getNodeType().toString();
        };
    }
}
