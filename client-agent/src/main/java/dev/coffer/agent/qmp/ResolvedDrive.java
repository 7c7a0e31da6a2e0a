package dev.coffer.agent.qmp;

/**
 * A {@code --drive NAME} resolved to the node that carries its bitmaps.
 *
 * @param name the name as given
 * @param nodeName the format node (a device's root node, or the node named NAME)
 * @param via how it was found
 * @param driver the node's driver
 * @param size the node's size in bytes
 * @param qomPath for a device, the QOM path whose {@code drive} property points at the node (a
 *     point-in-time filter is inserted by re-pointing it), else null
 */
public record ResolvedDrive(String name, String nodeName, Via via, String driver, long size, String qomPath) {

    /** A drive found as a node name: nothing to re-point. */
    public ResolvedDrive(String name, String nodeName, Via via, String driver, long size) {
        this(name, nodeName, via, driver, size, null);
    }

    /** How a drive name was resolved. */
    public enum Via {
        /** A device id through {@code query-block} (QEMU). */
        DEVICE,
        /** A node name through {@code query-named-block-nodes} (qemu-storage-daemon, or a QEMU node name). */
        NODE
    }
}
