package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Typed QMP block commands a backup needs, over one {@link QmpClient}. Every method is one or a few
 * synchronous QMP round trips; QEMU errors come back as {@link QmpException}.
 */
public final class QmpBlock {

    /** QEMU's answer to a second {@code nbd-server-start} (7.2). */
    static final String NBD_ALREADY_RUNNING = "NBD server already running";

    private final QmpClient qmp;

    public QmpBlock(QmpClient qmp) {
        this.qmp = Objects.requireNonNull(qmp, "qmp");
    }

    public QmpClient client() {
        return qmp;
    }

    // ------------------------------------------------------------------ inspection

    /** {@code query-block}: the guest's drives (empty on qemu-storage-daemon). */
    public List<BlockDevice> queryBlock() throws QmpException {
        List<BlockDevice> out = new ArrayList<>();
        for (JsonNode d : qmp.execute("query-block")) {
            out.add(BlockDevice.of(d));
        }
        return out;
    }

    /** {@code query-named-block-nodes}; {@code flat} lists each node once, without nested backing info. */
    public List<BlockNode> queryNamedBlockNodes(boolean flat) throws QmpException {
        ObjectNode a = qmp.args();
        if (flat) {
            a.put("flat", true);
        }
        List<BlockNode> out = new ArrayList<>();
        for (JsonNode n : qmp.execute("query-named-block-nodes", a)) {
            out.add(BlockNode.of(n));
        }
        return out;
    }

    /** The node called {@code nodeName}, if it exists. */
    public Optional<BlockNode> node(String nodeName) throws QmpException {
        return queryNamedBlockNodes(true).stream().filter(n -> n.nodeName().equals(nodeName)).findFirst();
    }

    /**
     * Resolves {@code --drive NAME} to its format node: a device (drive id, qdev id or QOM path)
     * through {@code query-block}, else a node name through {@code query-named-block-nodes}.
     *
     * @throws QmpException naming what exists when nothing is called {@code name}
     */
    public ResolvedDrive resolveDrive(String name) throws QmpException {
        return resolve(name, queryBlock(), queryNamedBlockNodes(true));
    }

    static ResolvedDrive resolve(String name, List<BlockDevice> devices, List<BlockNode> nodes) throws QmpException {
        Objects.requireNonNull(name, "name");
        List<BlockDevice> hits = devices.stream().filter(d -> d.matches(name)).toList();
        if (hits.size() > 1) {
            throw new QmpException("resolve drive", null, "'" + name + "' matches " + hits.size() + " devices: " + hits);
        }
        if (hits.size() == 1) {
            BlockDevice d = hits.getFirst();
            if (d.nodeName() == null) {
                throw new QmpException("resolve drive", null, "device '" + name + "' has no medium");
            }
            return new ResolvedDrive(name, d.nodeName(), ResolvedDrive.Via.DEVICE, d.driver(), d.virtualSize(), d.qomPath());
        }
        for (BlockNode n : nodes) {
            if (n.nodeName().equals(name)) {
                return new ResolvedDrive(name, n.nodeName(), ResolvedDrive.Via.NODE, n.driver(), n.virtualSize());
            }
        }
        List<String> known = new ArrayList<>();
        for (BlockDevice d : devices) {
            known.add(!d.device().isEmpty() ? d.device() : String.valueOf(d.qdev()));
        }
        for (BlockNode n : nodes) {
            if (!n.nodeName().startsWith("#")) {
                known.add(n.nodeName());
            }
        }
        throw new QmpException("resolve drive", null, "no device or node named '" + name + "'; known: " + known);
    }

    /**
     * Bytes the node's image occupies on its host storage ({@code image.actual-size}; for a qcow2
     * its file's allocated size), 0 when QEMU does not say: the most a point-in-time view's scratch
     * can receive while the guest overwrites it.
     */
    public long allocatedBytes(String nodeName) throws QmpException {
        ObjectNode a = qmp.args();
        a.put("flat", true);
        for (JsonNode n : qmp.execute("query-named-block-nodes", a)) {
            if (nodeName.equals(n.path("node-name").asText())) {
                return n.path("image").path("actual-size").asLong(0);
            }
        }
        throw new QmpException("query-named-block-nodes", null, "no block node named '" + nodeName + "'");
    }

    /**
     * The dirty bitmaps on {@code nodeName} (from {@code query-named-block-nodes}), in QEMU's order.
     *
     * @throws QmpException when the node does not exist
     */
    public List<DirtyBitmap> bitmaps(String nodeName) throws QmpException {
        return node(nodeName).orElseThrow(() -> new QmpException("query-named-block-nodes", null,
                "no block node named '" + nodeName + "'")).bitmaps();
    }

    /** {@code query-block-exports}. */
    public List<BlockExport> queryBlockExports() throws QmpException {
        List<BlockExport> out = new ArrayList<>();
        for (JsonNode e : qmp.execute("query-block-exports")) {
            out.add(BlockExport.of(e));
        }
        return out;
    }

    /** {@code query-block-jobs}. */
    public List<BlockJob> queryBlockJobs() throws QmpException {
        List<BlockJob> out = new ArrayList<>();
        for (JsonNode j : qmp.execute("query-block-jobs")) {
            out.add(BlockJob.of(j));
        }
        return out;
    }

    // ------------------------------------------------------------------ bitmaps

    /** Runs the actions atomically ({@code transaction}). */
    public void transaction(Transaction t) throws QmpException {
        if (t.isEmpty()) {
            return;
        }
        ObjectNode a = qmp.args();
        a.set("actions", t.actions());
        qmp.execute("transaction", a);
    }

    /** {@code block-dirty-bitmap-add}; {@code granularity} 0 lets QEMU choose. */
    public void addBitmap(String node, String name, boolean persistent, boolean disabled, long granularity)
            throws QmpException {
        ObjectNode d = (ObjectNode) new Transaction().addBitmap(node, name, persistent, disabled, granularity)
                .actions().get(0).get("data");
        qmp.execute("block-dirty-bitmap-add", d);
    }

    /** {@code block-dirty-bitmap-remove} (a persistent one is also removed from the image). */
    public void removeBitmap(String node, String name) throws QmpException {
        qmp.execute("block-dirty-bitmap-remove", bitmapArgs(node, name));
    }

    /** {@code block-dirty-bitmap-merge}. */
    public void mergeBitmaps(String node, String target, List<BitmapRef> sources) throws QmpException {
        qmp.execute("block-dirty-bitmap-merge", new Transaction().mergeBitmaps(node, target, sources)
                .actions().get(0).get("data"));
    }

    // ------------------------------------------------------------------ VM run state and devices

    /** {@code query-status}: true while the guest's CPUs run. */
    public boolean running() throws QmpException {
        return qmp.execute("query-status").path("running").asBoolean(false);
    }

    /** {@code stop}: pauses the guest's CPUs. */
    public void stop() throws QmpException {
        qmp.execute("stop");
    }

    /** {@code cont}: resumes the guest's CPUs. */
    public void cont() throws QmpException {
        qmp.execute("cont");
    }

    /** Points a guest device's {@code drive} property at {@code node} ({@code qom-set}). */
    public void setDeviceDrive(String qomPath, String node) throws QmpException {
        ObjectNode a = qmp.args();
        a.put("path", qomPath);
        a.put("property", "drive");
        a.put("value", node);
        qmp.execute("qom-set", a);
    }

    /**
     * The node attached as child {@code childName} ({@code file}, {@code target}, …) of {@code parent},
     * from {@code x-debug-query-block-graph}; empty when there is none. The only way QMP tells a
     * filter's child, which is what a killed run's filter hides.
     */
    public Optional<String> childOf(String parent, String childName) throws QmpException {
        JsonNode g = qmp.execute("x-debug-query-block-graph");
        java.util.Map<Long, String> names = new java.util.HashMap<>();
        for (JsonNode n : g.path("nodes")) {
            names.put(n.path("id").asLong(), n.path("name").asText());
        }
        for (JsonNode e : g.path("edges")) {
            if (childName.equals(e.path("name").asText()) && parent.equals(names.get(e.path("parent").asLong()))) {
                return Optional.ofNullable(names.get(e.path("child").asLong()));
            }
        }
        return Optional.empty();
    }

    // ------------------------------------------------------------------ NBD server and exports

    /**
     * {@code nbd-server-start} on a unix socket (the legacy {@code {type, data}} address form, the
     * only one 7.2 takes here).
     *
     * @return true when started; false when QEMU already runs an NBD server (it runs at most one and
     *     QMP cannot tell its address: the caller must know it, e.g. from {@code --nbd-socket})
     */
    public boolean startNbdServerUnix(Path socket) throws QmpException {
        ObjectNode a = qmp.args();
        ObjectNode addr = a.putObject("addr");
        addr.put("type", "unix");
        addr.putObject("data").put("path", socket.toString());
        try {
            qmp.execute("nbd-server-start", a);
            return true;
        } catch (QmpException e) {
            if (e.errorClass() != null && e.desc() != null && e.desc().contains(NBD_ALREADY_RUNNING)) {
                return false;
            }
            throw e;
        }
    }

    /** {@code nbd-server-stop}. */
    public void stopNbdServer() throws QmpException {
        qmp.execute("nbd-server-stop");
    }

    /**
     * {@code block-export-add} of type nbd.
     *
     * @param bitmaps exported as {@code qemu:dirty-bitmap:NAME} metadata contexts; on a read-only
     *     export they must be disabled
     */
    public void addNbdExport(String id, String nodeName, String exportName, boolean writable, List<BitmapRef> bitmaps)
            throws QmpException {
        ObjectNode a = qmp.args();
        a.put("type", "nbd");
        a.put("id", id);
        a.put("node-name", nodeName);
        a.put("name", exportName);
        a.put("writable", writable);
        if (!bitmaps.isEmpty()) {
            ArrayNode b = a.putArray("bitmaps");
            for (BitmapRef r : bitmaps) {
                b.add(r.toJson());
            }
        }
        qmp.execute("block-export-add", a);
    }

    /** {@code block-export-del}; {@code hard} drops connected clients instead of waiting for them. */
    public void deleteExport(String id, boolean hard) throws QmpException {
        ObjectNode a = qmp.args();
        a.put("id", id);
        a.put("mode", hard ? "hard" : "safe");
        qmp.execute("block-export-del", a);
    }

    /** Polls {@code query-block-exports} until {@code id} is gone (deletion completes asynchronously). */
    public void awaitExportGone(String id, Duration timeout) throws QmpException {
        awaitGone("export " + id, timeout, () -> queryBlockExports().stream().noneMatch(e -> e.id().equals(id)));
    }

    // ------------------------------------------------------------------ nodes and jobs

    /** {@code blockdev-add} with the given node description (must contain {@code node-name}). */
    public void blockdevAdd(ObjectNode node) throws QmpException {
        qmp.execute("blockdev-add", node);
    }

    /** {@code blockdev-del}. */
    public void blockdevDel(String nodeName) throws QmpException {
        ObjectNode a = qmp.args();
        a.put("node-name", nodeName);
        qmp.execute("blockdev-del", a);
    }

    /** {@code blockdev-backup sync=none} as a single command (see {@link Transaction#blockdevBackupSyncNone}). */
    public void blockdevBackupSyncNone(String jobId, String device, String target, String filterNodeName)
            throws QmpException {
        qmp.execute("blockdev-backup", backupArgs(jobId, device, target, filterNodeName));
    }

    /** {@code job-cancel}: a sync=none backup job then ends with BLOCK_JOB_CANCELLED. */
    public void jobCancel(String jobId) throws QmpException {
        ObjectNode a = qmp.args();
        a.put("id", jobId);
        qmp.execute("job-cancel", a);
    }

    /** Polls {@code query-block-jobs} until {@code jobId} is gone. */
    public void awaitJobGone(String jobId, Duration timeout) throws QmpException {
        awaitGone("job " + jobId, timeout, () -> queryBlockJobs().stream().noneMatch(j -> j.id().equals(jobId)));
    }

    static ObjectNode backupArgs(String jobId, String device, String target, String filterNodeName) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("job-id", jobId);
        d.put("device", device);
        d.put("target", target);
        d.put("sync", "none");
        if (filterNodeName != null) {
            d.put("filter-node-name", filterNodeName);
        }
        return d;
    }

    private static ObjectNode bitmapArgs(String node, String name) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("node", node);
        d.put("name", name);
        return d;
    }

    private interface Check {
        boolean done() throws QmpException;
    }

    private static void awaitGone(String what, Duration timeout, Check check) throws QmpException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.done()) {
            if (System.nanoTime() > deadline) {
                throw new QmpException("wait", null, what + " still present after " + timeout.toMillis() + " ms");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QmpException("interrupted waiting for " + what + " to go", e);
            }
        }
    }

}
