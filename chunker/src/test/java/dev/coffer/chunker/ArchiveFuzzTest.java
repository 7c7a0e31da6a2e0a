package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Feeds damaged archives to both readers: the strict one either rejects them with a
 * {@link FormatException} or reads exactly the archive written; the salvaging one never returns a
 * record that was not written, byte for byte.
 */
final class ArchiveFuzzTest {

    private static Path dir;
    private static ArchiveSample sample;

    @BeforeContainer
    static void build() throws IOException {
        dir = Files.createTempDirectory("archive-fuzz");
        sample = ArchiveSample.build(dir, null);
    }

    @AfterContainer
    static void remove() throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    record Mutation(int position, byte value) {}

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        Arbitrary<Integer> anywhere = Arbitraries.integers().between(0, sample.bytes.length - 1);
        Arbitrary<Integer> frameHeaders = Arbitraries.of(sample.offsets).flatMap(o -> Arbitraries.integers()
                .between((int) (long) o, (int) (long) o + 71));
        Arbitrary<Integer> tail = Arbitraries.integers().between((int) sample.trailerOffset, sample.bytes.length - 1);
        Arbitrary<Integer> position = Arbitraries.oneOf(anywhere, frameHeaders, tail);
        return Combinators.combine(position, Arbitraries.bytes()).as(Mutation::new).list().ofMinSize(1).ofMaxSize(4);
    }

    @Property(tries = 300)
    void shouldRejectOrReadExactlyAndSalvageOnlyWhatWasWritten(@ForAll("mutations") List<Mutation> mutations) throws IOException {
        byte[] b = sample.bytes.clone();
        for (Mutation m : mutations) {
            b[m.position()] = m.value();
        }
        check(b);
    }

    @Property(tries = 300)
    void shouldHandleCutsAndTruncations(@ForAll("cuts") int[] cut) throws IOException {
        int from = Math.min(cut[0], cut[1]);
        int to = Math.max(cut[0], cut[1]);
        byte[] b = new byte[sample.bytes.length - (to - from)];
        System.arraycopy(sample.bytes, 0, b, 0, from);
        System.arraycopy(sample.bytes, to, b, from, sample.bytes.length - to);
        check(b);
    }

    @Provide
    Arbitrary<int[]> cuts() {
        Arbitrary<Integer> at = Arbitraries.integers().between(0, sample.bytes.length);
        return Combinators.combine(at, at).as((a, c) -> new int[] {a, c}).filter(c -> c[0] != c[1]);
    }

    private static void check(byte[] b) throws IOException {
        Path h = Files.createTempDirectory(dir, "case");
        try {
            Map<Digest, byte[]> strict = ArchiveSample.records(b, false, h);
            assertThat(b).isEqualTo(sample.bytes);
            assertThat(strict.keySet()).containsExactlyElementsOf(sample.blobs.keySet());
        } catch (FormatException rejected) {
            assertThat(rejected.getMessage()).contains("test.cfa");
        }
        try {
            Map<Digest, byte[]> salvaged = ArchiveSample.records(b, true, Files.createTempDirectory(dir, "salvage"));
            salvaged.forEach((d, blob) -> {
                assertThat(sample.blobs).containsKey(d);
                assertThat(Arrays.equals(blob, sample.blobs.get(d))).isTrue();
            });
        } catch (FormatException.Truncated empty) {
            assertThat(empty.getMessage()).contains("the archive is empty");
        }
    }
}
