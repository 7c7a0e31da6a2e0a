package dev.coffer.agent.qmp;

/**
 * A {@code --drive NAME} resolved to the node that carries its bitmaps.
 *
 * @param name the name as given
 * @param nodeName the format node (a device's root node, or the node named NAME)
 * @param via how it was found
 * @param driver the node's driver
 * @param size the node's size in bytes
 */
public record ResolvedDrive(String name, String nodeName, Via via, String driver, long size) {

    /** How a drive name was resolved. */
    public enum Via {
        /** A device id through {@code query-block} (QEMU). */
        DEVICE,
        /** A node name through {@code query-named-block-nodes} (qemu-storage-daemon, or a QEMU node name). */
        NODE
    }
}
