package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class DigestTableTest {

    @TempDir
    Path dir;

    @Test
    void shouldKeepTheFirstValueOfEachDigestAndGrowPastItsHint() throws Exception {
        List<Digest> ds = FixedIndexTest.randomDigests(3, 5000);
        try (DigestTable t = DigestTable.create(dir, 10)) {
            for (int i = 0; i < ds.size(); i++) {
                assertThat(t.putIfAbsent(ds.get(i), i)).isTrue();
            }
            for (int i = 0; i < ds.size(); i++) {
                assertThat(t.putIfAbsent(ds.get(i), -5)).isFalse();
                assertThat(t.get(ds.get(i))).isEqualTo(i);
            }
            assertThat(t.size()).isEqualTo(5000);
            assertThat(t.get(FixedIndexTest.randomDigests(4, 1).getFirst())).isEqualTo(-1);
            assertThat(t.get(Digest.ZERO)).isEqualTo(-1);
            assertThatThrownBy(() -> t.putIfAbsent(Digest.ZERO, 1)).isInstanceOf(IllegalArgumentException.class);
        }
        try (var files = Files.list(dir)) {
            assertThat(files).as("every table file deleted").isEmpty();
        }
    }
}
