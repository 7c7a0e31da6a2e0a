package dev.coffer.agent.vm;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.backup.NbdChunkSource;
import dev.coffer.agent.qmp.BitmapRef;
import dev.coffer.agent.qmp.CheckpointPlan;
import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpException;
import dev.coffer.agent.qmp.ResolvedDrive;
import dev.coffer.agent.qmp.Transaction;
import java.nio.file.Path;
import java.util.List;

/**
 * One drive's point-in-time view and every temporary name it uses (all {@code <base>…}, where base
 * carries the agent's prefix and run id, so a later run can find and remove them). Two ways to
 * freeze it (DESIGN "Backup flow" step 4):
 *
 * <ul>
 *   <li>a guest <b>device</b>'s drive: a {@code copy-before-write} filter with
 *       {@code on-cbw-error: break-snapshot} is put between the device and its node while the VM is
 *       stopped, and a {@code snapshot-access} node on top is the view. A full scratch breaks the
 *       view (the backup fails), never the guest's writes;
 *   <li>a <b>node</b> held by an export or by qemu-storage-daemon (nothing to re-point): a
 *       {@code blockdev-backup sync=none} job copies old data into a scratch qcow2 backed by the
 *       node, which is the view. A full scratch would fail the guest's write on QEMU 7.2, so the
 *       {@link ScratchGuard} watches these.
 * </ul>
 */
final class FrozenDrive {

    /** Seconds a guest write may wait for its old data to be copied before the view is broken instead. */
    static final int CBW_TIMEOUT_S = 30;

    final ResolvedDrive drive;
    final CheckpointPlan plan;
    final String base;
    final Path scratchFile;
    NbdChunkSource source;
    private boolean filterInserted;
    private boolean repointed;

    FrozenDrive(ResolvedDrive drive, CheckpointPlan plan, String base, Path scratchFile) {
        this.drive = drive;
        this.plan = plan;
        this.base = base;
        this.scratchFile = scratchFile;
    }

    boolean device() {
        return drive.qomPath() != null;
    }

    String scratch() {
        return base;
    }

    String job() {
        return base + "-job";
    }

    String filter() {
        return base + "-cbw";
    }

    String view() {
        return device() ? base + "-v" : base;
    }

    String export() {
        return base;
    }

    /** The temporary bitmap with the changes since the base, or null when the chain is not trusted. */
    String tempBitmap() {
        return plan.usable() ? base : null;
    }

    /** Creates the scratch image: backed by the drive for the job path, standalone for the filter path. */
    void createScratch(QmpBlock qmp) throws QmpException {
        ScratchImage.create(qmp, scratchFile, scratch(), drive.size(), device() ? null : drive.nodeName(), base);
    }

    /** Filter path, with the VM stopped: insert the copy-before-write filter and the view over it. */
    void insertFilter(QmpBlock qmp) throws QmpException {
        ObjectNode cbw = qmp.client().args();
        cbw.put("driver", "copy-before-write");
        cbw.put("node-name", filter());
        cbw.put("file", drive.nodeName());
        cbw.put("target", scratch());
        cbw.put("on-cbw-error", "break-snapshot");
        cbw.put("cbw-timeout", CBW_TIMEOUT_S);
        qmp.blockdevAdd(cbw);
        filterInserted = true;
        qmp.setDeviceDrive(drive.qomPath(), filter());
        repointed = true;
        ObjectNode view = qmp.client().args();
        view.put("driver", "snapshot-access");
        view.put("node-name", view());
        view.put("file", filter());
        qmp.blockdevAdd(view);
    }

    /** This drive's part of the freeze transaction. */
    void addTo(Transaction t, boolean persistent) {
        String node = drive.nodeName();
        if (plan.usable()) {
            t.addBitmap(node, tempBitmap(), false, true, plan.granularity());
            t.mergeBitmaps(node, tempBitmap(), plan.merge().stream().map(c -> BitmapRef.named(c.name())).toList());
        }
        t.addBitmap(node, plan.next().name(), persistent, false, plan.granularity());
        if (plan.disable() != null) {
            t.disableBitmap(node, plan.disable().name());
        }
        if (!device()) {
            t.blockdevBackupSyncNone(job(), node, scratch(), filter());
        }
    }

    /** Exports the view read-only with the temporary bitmap. */
    void export(QmpBlock qmp) throws QmpException {
        List<BitmapRef> bitmaps = tempBitmap() == null ? List.of() : List.of(BitmapRef.on(drive.nodeName(), tempBitmap()));
        qmp.addNbdExport(export(), view(), export(), false, bitmaps);
    }

    /** Filter path: removes the view first, since it holds the filter's permissions on the drive's node. */
    void removeView(QmpBlock qmp) throws QmpException {
        if (device() && qmp.node(view()).isPresent()) {
            qmp.blockdevDel(view());
        }
    }

    /** Filter path, with the VM stopped and the view gone: the device back on its own node. */
    void repointBack(QmpBlock qmp) throws QmpException {
        if (repointed) {
            qmp.setDeviceDrive(drive.qomPath(), drive.nodeName());
            repointed = false;
        }
    }

    boolean repointed() {
        return repointed;
    }

    /** Removes the view, the filter and the scratch nodes (each only if present). */
    void removeNodes(QmpBlock qmp) throws QmpException {
        if (device()) {
            removeView(qmp);
            if (filterInserted && qmp.node(filter()).isPresent()) {
                qmp.blockdevDel(filter());
            }
        }
        ScratchImage.remove(qmp, scratch());
    }
}
