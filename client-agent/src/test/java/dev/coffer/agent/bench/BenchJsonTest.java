package dev.coffer.agent.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

final class BenchJsonTest {

    private static final List<BenchResult> RESULTS = List.of(
            new BenchResult("sha256", "mixed", 1, 1712.345, 1000, 1.0),
            new BenchResult("sha256", "mixed", 2, 3400.06, 2000, 1.0),
            new BenchResult("zstd-compress", "text", 1, 512.0, 1000, 1.0));

    @Test
    void shouldWriteTheDocumentedShape() {
        assertThat(BenchJson.write(RESULTS)).isEqualTo("{\"results\":["
                + "{\"op\":\"sha256\",\"data\":\"mixed\",\"threads\":1,\"mb_per_s\":1712.3},"
                + "{\"op\":\"sha256\",\"data\":\"mixed\",\"threads\":2,\"mb_per_s\":3400.1},"
                + "{\"op\":\"zstd-compress\",\"data\":\"text\",\"threads\":1,\"mb_per_s\":512.0}]}");
    }

    @Test
    void shouldReadBackWhatItWrote() {
        List<BenchResult> back = BenchJson.read(BenchJson.write(RESULTS));

        assertThat(back).extracting(BenchResult::op, BenchResult::data, BenchResult::threads, BenchResult::mbPerSecond)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("sha256", "mixed", 1, 1712.3),
                        org.assertj.core.groups.Tuple.tuple("sha256", "mixed", 2, 3400.1),
                        org.assertj.core.groups.Tuple.tuple("zstd-compress", "text", 1, 512.0));
    }

    @Test
    void shouldRejectOtherDocuments() {
        assertThatThrownBy(() -> BenchJson.read("{\"x\":1}")).hasMessageContaining("no \"results\" array");
        assertThatThrownBy(() -> BenchJson.read("[")).hasMessageContaining("not a coffer bench JSON document");
        assertThatThrownBy(() -> BenchJson.read("{\"results\":[{\"op\":\"sha256\"}]}"))
                .hasMessageContaining("without \"data\"");
    }

    @Test
    void shouldRenderOneRowPerOpAndDataWithAColumnPerThreadCount() {
        BenchReport report = new BenchReport(RESULTS);

        assertThat(report.markdown()).isEqualTo("""
                | op | data | MB/s, 1 thread | MB/s, 2 threads |
                |---|---|---:|---:|
                | sha256 | mixed | 1712.3 | 3400.1 |
                | zstd-compress | text | 512.0 | - |
                """);
        assertThat(report.table()).isEqualTo("""
                op             data   MB/s, 1 thread  MB/s, 2 threads
                sha256         mixed          1712.3           3400.1
                zstd-compress  text            512.0                -
                """);
    }
}
