package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The actions of one QMP {@code transaction}: all take effect at the same instant, or none does.
 * A checkpoint is {@code addBitmap(new, persistent)} + {@code disableBitmap(previous)}; a backup's
 * freeze adds {@code blockdevBackupSyncNone} to the same transaction.
 */
public final class Transaction {

    private final ArrayNode actions = JsonNodeFactory.instance.arrayNode();

    /**
     * {@code block-dirty-bitmap-add}.
     *
     * @param granularity bytes per bit, or 0 for QEMU's choice (the qcow2 cluster size)
     */
    public Transaction addBitmap(String node, String name, boolean persistent, boolean disabled, long granularity) {
        ObjectNode d = bitmap(node, name);
        d.put("persistent", persistent);
        if (disabled) {
            d.put("disabled", true);
        }
        if (granularity > 0) {
            d.put("granularity", granularity);
        }
        return add("block-dirty-bitmap-add", d);
    }

    /** {@code block-dirty-bitmap-disable}: the bitmap stops recording. */
    public Transaction disableBitmap(String node, String name) {
        return add("block-dirty-bitmap-disable", bitmap(node, name));
    }

    /** {@code block-dirty-bitmap-enable}. */
    public Transaction enableBitmap(String node, String name) {
        return add("block-dirty-bitmap-enable", bitmap(node, name));
    }

    /** {@code block-dirty-bitmap-remove}. */
    public Transaction removeBitmap(String node, String name) {
        return add("block-dirty-bitmap-remove", bitmap(node, name));
    }

    /** {@code block-dirty-bitmap-clear}. */
    public Transaction clearBitmap(String node, String name) {
        return add("block-dirty-bitmap-clear", bitmap(node, name));
    }

    /** {@code block-dirty-bitmap-merge}: ORs {@code sources} into {@code target} on {@code node}. */
    public Transaction mergeBitmaps(String node, String target, List<BitmapRef> sources) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("node", node);
        d.put("target", target);
        ArrayNode s = d.putArray("bitmaps");
        for (BitmapRef r : sources) {
            s.add(r.toJson());
        }
        return add("block-dirty-bitmap-merge", d);
    }

    /**
     * {@code blockdev-backup sync=none}: from now on every write to {@code device} first copies the
     * old data into {@code target}, so a node backed by the device whose target it is shows the disk
     * as of this instant. The job never ends by itself; cancel it to end the freeze.
     */
    public Transaction blockdevBackupSyncNone(String jobId, String device, String target, String filterNodeName) {
        return add("blockdev-backup", QmpBlock.backupArgs(jobId, device, target, filterNodeName));
    }

    /** The actions so far, as QMP wants them. */
    public ArrayNode actions() {
        return actions.deepCopy();
    }

    public boolean isEmpty() {
        return actions.isEmpty();
    }

    private Transaction add(String type, ObjectNode data) {
        ObjectNode a = actions.addObject();
        a.put("type", type);
        a.set("data", data);
        return this;
    }

    private static ObjectNode bitmap(String node, String name) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("node", node);
        d.put("name", name);
        return d;
    }
}
