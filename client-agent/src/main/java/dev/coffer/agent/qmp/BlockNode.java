package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One node of {@code query-named-block-nodes {"flat":true}}.
 *
 * @param nodeName the node name (auto-generated ones start with {@code #})
 * @param driver the block driver (qcow2, raw, file, copy-before-write, …)
 * @param file the image file name QEMU reports
 * @param virtualSize the size the node presents, in bytes
 * @param readOnly whether the node is read-only
 * @param bitmaps the dirty bitmaps on the node, in QEMU's order (which means nothing)
 */
public record BlockNode(String nodeName, String driver, String file, long virtualSize, boolean readOnly,
        List<DirtyBitmap> bitmaps) {

    public BlockNode {
        bitmaps = List.copyOf(bitmaps);
    }

    /** Bitmaps with a name (leaves out a backup job's internal one). */
    public List<DirtyBitmap> namedBitmaps() {
        return bitmaps.stream().filter(b -> b.name() != null).toList();
    }

    static BlockNode of(JsonNode n) {
        List<DirtyBitmap> bitmaps = new ArrayList<>();
        for (JsonNode b : n.path("dirty-bitmaps")) {
            bitmaps.add(DirtyBitmap.of(b));
        }
        return new BlockNode(n.path("node-name").asText(), n.path("drv").asText(), n.path("file").asText(),
                n.path("image").path("virtual-size").asLong(), n.path("ro").asBoolean(false), bitmaps);
    }
}
