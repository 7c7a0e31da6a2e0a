package dev.coffer.agent.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

final class DataKindTest {

    private static final int SIZE = 1 << 20;

    private static double zstdRatio(byte[] data) {
        return (double) data.length / Zstd.compress(data, 1).length;
    }

    @Test
    void shouldMakeTheSameBytesFromTheSameSeed() {
        for (DataKind kind : DataKind.values()) {
            assertThat(kind.chunk(SIZE, 42)).as(kind.label()).isEqualTo(kind.chunk(SIZE, 42));
        }
        assertThat(DataKind.RANDOM.chunk(SIZE, 1)).isNotEqualTo(DataKind.RANDOM.chunk(SIZE, 2));
        assertThat(DataKind.TEXT.chunk(SIZE, 1)).isNotEqualTo(DataKind.TEXT.chunk(SIZE, 2));
    }

    @Test
    void shouldHaveTheCompressibilityTheirNamesPromise() {
        assertThat(zstdRatio(DataKind.RANDOM.chunk(SIZE, 1))).isLessThan(1.01);
        assertThat(zstdRatio(DataKind.TEXT.chunk(SIZE, 1))).isBetween(2.0, 8.0);
        assertThat(DataKind.ZEROS.chunk(SIZE, 1)).containsOnly(0);
        byte[] mixed = DataKind.MIXED.chunk(SIZE, 1);
        assertThat(zstdRatio(Arrays.copyOfRange(mixed, 0, SIZE / 2))).isLessThan(1.01);
        assertThat(zstdRatio(Arrays.copyOfRange(mixed, SIZE / 2, SIZE))).isGreaterThan(2.0);
    }

    @Test
    void shouldLookTextLike() {
        byte[] text = DataKind.TEXT.chunk(SIZE, 3);
        for (byte b : text) {
            assertThat(b == '\n' || (b >= 0x20 && b < 0x7f)).isTrue();
        }
    }

    @Test
    void shouldParseLabelsAndListKnownOnesOnError() {
        assertThat(DataKind.fromLabel("mixed")).isEqualTo(DataKind.MIXED);
        assertThatThrownBy(() -> DataKind.fromLabel("MIXED"))
                .hasMessage("unknown data kind 'MIXED' (known: random, text, zeros, mixed)");
    }
}
