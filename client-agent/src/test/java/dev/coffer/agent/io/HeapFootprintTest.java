package dev.coffer.agent.io;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HeapFootprintTest {

    private static final long MIB = 1 << 20;

    @Test
    void shouldCountHumongousArraysAsTheWholeRegionsTheyTake() {
        // the agent's 192 MiB heap: 1 MiB regions
        assertThat(HeapFootprint.ofArray(1 << 20, MIB)).isEqualTo(2 * MIB);
        assertThat(HeapFootprint.ofArray(4 << 20, MIB)).isEqualTo(5 * MIB);
        assertThat(HeapFootprint.ofArray(512 << 10, MIB)).as("half a region is humongous already").isEqualTo(MIB);
        // the server's 16 MiB regions: a 4 MiB chunk is an ordinary object there
        assertThat(HeapFootprint.ofArray(4 << 20, 16 * MIB)).isEqualTo((4 << 20) + 16);
    }

    @Test
    void shouldCountSmallArraysAndOtherCollectorsAtTheirSizePlusHeader() {
        assertThat(HeapFootprint.ofArray(64 << 10, MIB)).isEqualTo((64 << 10) + 16);
        assertThat(HeapFootprint.ofArray(4 << 20, 0)).isEqualTo((4 << 20) + 16);
    }

    @Test
    void shouldNeverCountLessThanTheArrayInThisJvm() {
        for (int len : new int[] {1, 4096, 1 << 20, 4 << 20, 16 << 20}) {
            assertThat(HeapFootprint.ofArray(len)).isGreaterThanOrEqualTo(len + 16L);
        }
    }
}
