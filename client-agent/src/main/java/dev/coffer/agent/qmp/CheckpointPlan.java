package dev.coffer.agent.qmp;

import dev.coffer.chunker.ManifestDisk;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * What one backup does with the checkpoint bitmaps of one drive (DESIGN "Backup flow" step 3 and
 * 7): whether the base's checkpoint may be trusted, which checkpoints to merge into the temporary
 * bitmap, the next checkpoint, the one to disable, and the stale ones to remove.
 *
 * <p>A pure decision over what {@code query-named-block-nodes} reports, so every rule is unit
 * tested without QEMU. The base's bitmap is usable only when every seq from the base's checkpoint
 * to the newest of this (datastore, group) is on the node, none is inconsistent, all share one
 * granularity, and the node and size match the base's manifest; otherwise {@link #reason()} says
 * why the disk is read whole ({@code diff}).
 *
 * <p>Removal keeps the base's checkpoint and everything after it — a failed backup's checkpoint
 * stays in the chain and the next merge covers it — and removes older checkpoints of this prefix
 * (no restore point of the group will take them as a base again unless the newest restore points
 * are deleted, and then the backup falls back to {@code diff}, never to a wrong bitmap) and every
 * inconsistent one (QEMU can only remove those).
 *
 * @param next the checkpoint this backup adds
 * @param disable the previous checkpoint still recording, disabled in the same transaction, or null
 * @param merge the checkpoints whose union is "changed since the base", oldest first; empty when
 *     {@link #reason()} is set
 * @param granularity the granularity of the chain (for the temporary bitmap and the new checkpoint),
 *     0 to let QEMU choose
 * @param reason null when the bitmap is usable, else the DESIGN word ({@code no-base},
 *     {@code bitmap-missing}, {@code bitmap-inconsistent}, {@code checkpoint-gap},
 *     {@code base-verify-failed}, {@code resized})
 * @param remove stale checkpoint names to remove before the freeze
 */
public record CheckpointPlan(CheckpointName next, CheckpointName disable, List<CheckpointName> merge, long granularity,
        String reason, List<String> remove) {

    public CheckpointPlan {
        Objects.requireNonNull(next, "next");
        merge = List.copyOf(merge);
        remove = List.copyOf(remove);
        if (reason == null && merge.isEmpty()) {
            throw new IllegalArgumentException("a usable bitmap merges at least the base's checkpoint");
        }
    }

    /** True when the base's checkpoint chain may be trusted (an incremental read, after the sample). */
    public boolean usable() {
        return reason == null;
    }

    /**
     * Decides for one drive.
     *
     * @param bitmaps the named bitmaps on the drive's node
     * @param baseDisk the base restore point's disk of the same name, or null when there is no base
     *     or it has no such disk
     * @param baseVerifyFailed the base's verify found bad chunks: its checkpoint is not trusted
     * @param node the drive's node now
     * @param size the drive's size now
     */
    public static CheckpointPlan decide(List<DirtyBitmap> bitmaps, UUID datastore, String groupKey, ManifestDisk baseDisk,
            boolean baseVerifyFailed, String node, long size) {
        Map<Long, DirtyBitmap> ours = new HashMap<>();
        List<String> remove = new ArrayList<>();
        List<CheckpointName> consistent = new ArrayList<>();
        boolean anyInconsistent = false;
        for (DirtyBitmap b : bitmaps) {
            var parsed = CheckpointName.parse(b.name());
            if (parsed.isEmpty() || !parsed.get().belongsTo(datastore, groupKey)) {
                continue;
            }
            ours.put(parsed.get().seq(), b);
            if (b.inconsistent()) {
                anyInconsistent = true;
                remove.add(b.name());
            } else {
                consistent.add(parsed.get());
            }
        }
        consistent.sort(null);
        CheckpointName next = CheckpointName.next(bitmaps.stream().map(DirtyBitmap::name).filter(Objects::nonNull).toList(),
                datastore, groupKey);
        CheckpointName disable = null;
        if (!consistent.isEmpty()) {
            CheckpointName newest = consistent.getLast();
            if (ours.get(newest.seq()).recording()) {
                disable = newest;
            }
        }
        ManifestDisk.Checkpoint base = baseDisk == null ? null : baseDisk.checkpoint();
        String reason = null;
        List<CheckpointName> merge = List.of();
        long granularity = 0;
        if (baseDisk == null) {
            reason = "no-base";
        } else if (baseDisk.size() != size) {
            reason = "resized";
        } else if (base == null || CheckpointName.parse(base.name()).filter(c -> c.belongsTo(datastore, groupKey)).isEmpty()) {
            reason = "bitmap-missing"; // the base was not read through QMP, or by another store or group
        } else if (baseVerifyFailed) {
            reason = "base-verify-failed";
        } else {
            long from = CheckpointName.parse(base.name()).orElseThrow().seq();
            DirtyBitmap first = ours.get(from);
            if (first == null) {
                // a checkpoint added since QEMU last opened the image is only written at a clean close:
                // after a crash it is gone, and the older ones come back inconsistent
                reason = anyInconsistent ? "bitmap-inconsistent" : "bitmap-missing";
            } else if (first.inconsistent()) {
                reason = "bitmap-inconsistent";
            } else if (!base.node().equals(node) || base.size() != size) {
                reason = "bitmap-missing"; // a different node or size: not the bitmap the base started
            } else {
                List<CheckpointName> chain = new ArrayList<>();
                long newest = ours.keySet().stream().mapToLong(Long::longValue).max().orElse(from);
                for (long s = from; s <= newest && reason == null; s++) {
                    DirtyBitmap b = ours.get(s);
                    if (b == null) {
                        reason = "checkpoint-gap";
                    } else if (b.inconsistent()) {
                        reason = "bitmap-inconsistent";
                    } else if (b.granularity() != first.granularity()) {
                        reason = "checkpoint-gap"; // bitmaps of two granularities cannot be merged exactly
                    } else {
                        chain.add(new CheckpointName(datastore, groupKey, s));
                    }
                }
                if (reason == null) {
                    merge = chain;
                    granularity = first.granularity();
                }
            }
        }
        if (reason == null && anyInconsistent) {
            reason = "bitmap-inconsistent"; // an inconsistent bitmap after the base: writes may be missing
            merge = List.of();
        }
        long keepFrom = merge.isEmpty() ? Long.MAX_VALUE : merge.getFirst().seq();
        for (CheckpointName c : consistent) {
            if (c.seq() < keepFrom && (disable == null || c.seq() < disable.seq())) {
                remove.add(c.name()); // older than the base's: nothing can start from it again
            }
        }
        if (granularity == 0 && !consistent.isEmpty() && disable != null) {
            granularity = ours.get(disable.seq()).granularity();
        }
        return new CheckpointPlan(next, disable, merge, granularity, reason, remove);
    }
}
