package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * A bitmap for {@code block-dirty-bitmap-merge} sources and {@code block-export-add} bitmaps: a
 * plain name (QEMU looks on the target node, or for exports along the exported node's backing and
 * filter chain) or {@code {"node","name"}} for a bitmap on another node (needed when exporting a
 * fleecing view of a disk).
 */
public record BitmapRef(String node, String name) {

    public BitmapRef {
        Objects.requireNonNull(name, "name");
    }

    public static BitmapRef named(String name) {
        return new BitmapRef(null, name);
    }

    public static BitmapRef on(String node, String name) {
        return new BitmapRef(Objects.requireNonNull(node, "node"), name);
    }

    JsonNode toJson() {
        if (node == null) {
            return JsonNodeFactory.instance.textNode(name);
        }
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("node", node);
        o.put("name", name);
        return o;
    }
}
