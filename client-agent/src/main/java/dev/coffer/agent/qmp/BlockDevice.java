package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One entry of {@code query-block} (QEMU only: qemu-storage-daemon has no devices and answers
 * {@code []}).
 *
 * @param device the legacy drive id ({@code -drive id=…}), "" for {@code -blockdev} disks
 * @param qdev the guest device's QOM path or id ({@code /machine/peripheral/vda/virtio-backend}), or null
 * @param nodeName the root node of the device's medium, null when there is none (empty CD-ROM)
 * @param driver that node's driver
 * @param virtualSize that node's size in bytes
 */
public record BlockDevice(String device, String qdev, String nodeName, String driver, long virtualSize) {

    /**
     * True when {@code name} names this device: its drive id, its qdev, or the device id inside a
     * {@code /machine/peripheral/ID[/virtio-backend]} QOM path.
     */
    public boolean matches(String name) {
        if (name.isEmpty()) {
            return false;
        }
        if (name.equals(device) || name.equals(qdev)) {
            return true;
        }
        if (qdev == null) {
            return false;
        }
        String p = "/machine/peripheral/" + name;
        return qdev.equals(p) || qdev.equals(p + "/virtio-backend");
    }

    /**
     * The QOM path whose {@code drive} property holds the medium: the qdev path without the
     * {@code /virtio-backend} that virtio devices report, or null without a qdev path.
     */
    public String qomPath() {
        if (qdev == null || !qdev.startsWith("/")) {
            return qdev == null ? null : "/machine/peripheral/" + qdev;
        }
        return qdev.endsWith("/virtio-backend") ? qdev.substring(0, qdev.length() - "/virtio-backend".length()) : qdev;
    }

    static BlockDevice of(JsonNode d) {
        JsonNode ins = d.path("inserted");
        JsonNode qdev = d.get("qdev");
        return new BlockDevice(d.path("device").asText(""), qdev == null ? null : qdev.asText(),
                ins.has("node-name") ? ins.get("node-name").asText() : null, ins.path("drv").asText(null),
                ins.path("image").path("virtual-size").asLong());
    }
}
