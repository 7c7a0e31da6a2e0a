package dev.coffer.agent.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the real benchmark on tiny settings: checks what it reports, never how fast it was. */
final class CodecBenchTest {

    private static BenchSettings tiny(List<BenchOp> ops, List<DataKind> data, List<Integer> threads) {
        return new BenchSettings(ops, data, threads, Duration.ofMillis(20), Duration.ofMillis(5), 64 * 1024, 7);
    }

    @Test
    void shouldReportEveryCaseWithPositiveThroughput() {
        List<String> progress = new ArrayList<>();
        BenchSettings settings = tiny(List.of(BenchOp.values()), List.of(DataKind.values()), List.of(1, 2));

        List<BenchResult> results = new CodecBench(settings, progress::add).run();

        // every op on every kind and thread count, except the chunk codec on zeros (never encoded)
        long chunkOps = List.of(BenchOp.values()).stream().filter(op -> !op.supports(DataKind.ZEROS)).count();
        assertThat(chunkOps).isEqualTo(4);
        assertThat(results).hasSize(BenchOp.values().length * DataKind.values().length * 2 - (int) chunkOps * 2);
        assertThat(results).allSatisfy(r -> {
            assertThat(r.mbPerSecond()).isPositive();
            assertThat(r.bytes()).isPositive().isEqualTo(r.bytes() / (64 * 1024) * (64 * 1024));
            assertThat(r.seconds()).isPositive();
            assertThat(r.threads()).isIn(1, 2);
        });
        assertThat(results).noneMatch(r -> r.op().startsWith("chunk-") && r.data().equals("zeros"));
        assertThat(results.getFirst()).extracting(BenchResult::op, BenchResult::data, BenchResult::threads)
                .containsExactly("sha256", "random", 1);
        assertThat(results.get(1).threads()).isEqualTo(2);
        assertThat(progress.getFirst()).startsWith("warming up");
        assertThat(progress).hasSize(results.size() + 1);
    }

    @Test
    void shouldUseOnlyTheSelectedCases() {
        BenchSettings settings = tiny(List.of(BenchOp.CHUNK_DECODE_ENCRYPTED, BenchOp.KEYED_DIGEST),
                List.of(DataKind.MIXED), List.of(1));

        List<BenchResult> results = new CodecBench(settings, line -> { }).run();

        assertThat(results).extracting(BenchResult::op).containsExactly("chunk-decode-encrypted", "keyed-digest");
        assertThat(results).extracting(BenchResult::data).containsOnly("mixed");
    }

    @Test
    void shouldRefuseWhenNothingIsLeftToMeasure() {
        BenchSettings settings = tiny(List.of(BenchOp.CHUNK_ENCODE), List.of(DataKind.ZEROS), List.of(1));

        assertThatThrownBy(() -> new CodecBench(settings, line -> { }).run())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("never encodes all-zero chunks");
    }

    @Test
    void shouldRefuseMoreThreadsThanTheHeapHolds() {
        int fit = CodecBench.maxThreadsForHeap(4 * 1024 * 1024, Runtime.getRuntime().maxMemory());
        BenchSettings settings = new BenchSettings(List.of(BenchOp.SHA256), List.of(DataKind.RANDOM),
                List.of(fit + 1), Duration.ZERO, Duration.ofMillis(5), 4 * 1024 * 1024, 7);

        assertThatThrownBy(() -> new CodecBench(settings, line -> { }).run())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("COFFER_JAVA_OPTS");
    }

    @Test
    void shouldFitFewerWorkersInASmallerHeap() {
        int chunk = 4 * 1024 * 1024;
        assertThat(CodecBench.maxThreadsForHeap(chunk, 192L << 20)).isBetween(4, 12);
        assertThat(CodecBench.maxThreadsForHeap(chunk, 32L << 20)).isEqualTo(1);
        assertThat(CodecBench.maxThreadsForHeap(chunk, 4L << 30)).isGreaterThan(200);
    }
}
