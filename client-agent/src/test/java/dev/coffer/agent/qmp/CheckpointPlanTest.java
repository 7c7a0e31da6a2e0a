package dev.coffer.agent.qmp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.chunker.Digest;
import dev.coffer.chunker.ManifestDisk;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Every rule of DESIGN "Backup flow" step 3 and 7 over made-up bitmap lists. */
final class CheckpointPlanTest {

    private static final UUID DS = UUID.fromString("3f2b8c1e-0d4a-4b6f-9e21-5a7c9d0b1e22");
    private static final UUID OTHER_DS = UUID.fromString("00000000-0000-4000-8000-000000000001");
    private static final String KEY = CheckpointName.groupKey("", "vm", "101");
    private static final String OTHER_KEY = CheckpointName.groupKey("", "vm", "102");
    private static final long SIZE = 1L << 30;
    private static final long G = 65536;

    private static String cp(long seq) {
        return new CheckpointName(DS, KEY, seq).name();
    }

    private static DirtyBitmap bm(String name, boolean recording, boolean inconsistent) {
        return new DirtyBitmap(name, G, 0, true, recording, false, inconsistent);
    }

    private static DirtyBitmap disabled(long seq) {
        return bm(cp(seq), false, false);
    }

    private static DirtyBitmap active(long seq) {
        return bm(cp(seq), true, false);
    }

    private static ManifestDisk base(long seq, String node, long size) {
        return new ManifestDisk("vda", size, new ManifestDisk.IndexRef("vda.fidx", 4096, Digest.ZERO), ManifestDisk.Mode.FULL,
                "no-base", seq == 0 ? null : new ManifestDisk.Checkpoint(cp(seq), seq, node, size, G), Map.of());
    }

    private static CheckpointPlan decide(List<DirtyBitmap> bitmaps, ManifestDisk base) {
        return CheckpointPlan.decide(bitmaps, DS, KEY, base, false, "disk0", SIZE);
    }

    @Test
    void firstBackupStartsTheChainAtOne() {
        CheckpointPlan p = decide(List.of(), null);
        assertThat(p.reason()).isEqualTo("no-base");
        assertThat(p.next().seq()).isEqualTo(1);
        assertThat(p.disable()).isNull();
        assertThat(p.merge()).isEmpty();
        assertThat(p.remove()).isEmpty();
        assertThat(p.usable()).isFalse();
    }

    @Test
    void theBasesCheckpointAndEveryLaterOneAreMergedAndTheNewestDisabled() {
        // seq 3 is the base's, 4 a failed backup's, 5 recording now
        CheckpointPlan p = decide(List.of(disabled(2), disabled(3), disabled(4), active(5)), base(3, "disk0", SIZE));
        assertThat(p.usable()).isTrue();
        assertThat(p.merge()).extracting(CheckpointName::seq).containsExactly(3L, 4L, 5L);
        assertThat(p.next().seq()).isEqualTo(6);
        assertThat(p.disable().seq()).isEqualTo(5);
        assertThat(p.granularity()).isEqualTo(G);
        assertThat(p.remove()).as("only what is older than the base's goes").containsExactly(cp(2));
    }

    @Test
    void qemuListsBitmapsInNoOrderSoOrderComesFromSeq() {
        CheckpointPlan p = decide(List.of(active(12), disabled(10), disabled(11), disabled(9)), base(10, "disk0", SIZE));
        assertThat(p.merge()).extracting(CheckpointName::seq).containsExactly(10L, 11L, 12L);
        assertThat(p.next().seq()).isEqualTo(13);
        assertThat(p.disable().seq()).isEqualTo(12);
        assertThat(p.remove()).containsExactly(cp(9));
    }

    @Test
    void aMissingBaseCheckpointMeansBitmapMissing() {
        CheckpointPlan p = decide(List.of(disabled(4), active(5)), base(3, "disk0", SIZE));
        assertThat(p.reason()).isEqualTo("bitmap-missing");
        assertThat(p.merge()).isEmpty();
        assertThat(p.next().seq()).isEqualTo(6);
        assertThat(p.disable().seq()).isEqualTo(5);
        assertThat(p.remove()).containsExactly(cp(4));
    }

    @Test
    void aHoleInTheChainIsACheckpointGap() {
        CheckpointPlan p = decide(List.of(disabled(3), active(5)), base(3, "disk0", SIZE));
        assertThat(p.reason()).isEqualTo("checkpoint-gap");
        assertThat(p.merge()).isEmpty();
    }

    @Test
    void inconsistentBitmapsAfterACrashAreNotTrustedAndAreRemoved() {
        List<DirtyBitmap> afterCrash = List.of(bm(cp(3), false, true), bm(cp(4), false, true));
        CheckpointPlan p = decide(afterCrash, base(3, "disk0", SIZE));
        assertThat(p.reason()).isEqualTo("bitmap-inconsistent");
        assertThat(p.remove()).containsExactlyInAnyOrder(cp(3), cp(4));
        assertThat(p.disable()).as("nothing consistent is recording").isNull();
        assertThat(p.next().seq()).as("numbering goes on past the removed ones").isEqualTo(5);

        CheckpointPlan lostNewest = decide(List.of(bm(cp(2), false, true)), base(3, "disk0", SIZE));
        assertThat(lostNewest.reason()).as("a checkpoint added after the image was opened is lost in a crash")
                .isEqualTo("bitmap-inconsistent");

        CheckpointPlan later = decide(List.of(disabled(3), bm(cp(4), false, true)), base(3, "disk0", SIZE));
        assertThat(later.reason()).as("an inconsistent one after the base may have lost writes").isEqualTo("bitmap-inconsistent");
    }

    @Test
    void otherStoresAndGroupsAreInvisibleAndUntouched() {
        String otherStore = new CheckpointName(OTHER_DS, KEY, 1).name();
        String otherGroup = new CheckpointName(DS, OTHER_KEY, 1).name();
        List<DirtyBitmap> bitmaps = new ArrayList<>(List.of(bm(otherStore, true, false), bm(otherGroup, true, false),
                bm("backup-vda", false, false), disabled(1), active(2)));
        CheckpointPlan p = decide(bitmaps, base(2, "disk0", SIZE));
        assertThat(p.usable()).isTrue();
        assertThat(p.merge()).extracting(CheckpointName::seq).containsExactly(2L);
        assertThat(p.disable().name()).isEqualTo(cp(2));
        assertThat(p.remove()).containsExactly(cp(1));

        CheckpointPlan fresh = CheckpointPlan.decide(bitmaps, OTHER_DS, OTHER_KEY, null, false, "disk0", SIZE);
        assertThat(fresh.next().seq()).as("another store and group start their own chain").isEqualTo(1);
        assertThat(fresh.disable()).isNull();
        assertThat(fresh.remove()).isEmpty();
    }

    @Test
    void aBaseFromAnotherStoreOrWithoutCheckpointIsBitmapMissing() {
        ManifestDisk fromFile = base(0, "disk0", SIZE);
        assertThat(decide(List.of(active(1)), fromFile).reason()).isEqualTo("bitmap-missing");
        ManifestDisk foreign = new ManifestDisk("vda", SIZE, new ManifestDisk.IndexRef("vda.fidx", 4096, Digest.ZERO),
                ManifestDisk.Mode.FULL, null, new ManifestDisk.Checkpoint(new CheckpointName(OTHER_DS, KEY, 1).name(), 1, "disk0",
                        SIZE, G), Map.of());
        assertThat(decide(List.of(active(1)), foreign).reason()).isEqualTo("bitmap-missing");
    }

    @Test
    void resizeNodeChangeAndFailedVerifyAreNotTrusted() {
        List<DirtyBitmap> chain = List.of(active(1));
        assertThat(decide(chain, base(1, "disk0", SIZE / 2)).reason()).isEqualTo("resized");
        assertThat(decide(chain, base(1, "other-node", SIZE)).reason()).isEqualTo("bitmap-missing");
        assertThat(CheckpointPlan.decide(chain, DS, KEY, base(1, "disk0", SIZE), true, "disk0", SIZE).reason())
                .isEqualTo("base-verify-failed");
    }

    @Test
    void checkpointsOfTwoGranularitiesCannotBeMergedExactly() {
        List<DirtyBitmap> chain = List.of(disabled(1), new DirtyBitmap(cp(2), G * 2, 0, true, true, false, false));
        assertThat(decide(chain, base(1, "disk0", SIZE)).reason()).isEqualTo("checkpoint-gap");
    }
}
