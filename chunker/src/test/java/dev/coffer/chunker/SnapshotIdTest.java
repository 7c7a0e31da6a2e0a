package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class SnapshotIdTest {

    @ParameterizedTest
    @ValueSource(strings = {"vm/101/2026-11-22T10:00:00Z", "ns/a/vm/101/2026-11-22T10:00:00Z",
            "ns/a/ns/b.c/host/web_01/1970-01-01T00:00:00Z", "ns/ns/vm/ns/2026-11-22T10:00:00Z"})
    void shouldRoundTripPaths(String path) {
        assertThat(SnapshotId.parsePath(path).path()).isEqualTo(path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vm/101", "vm/101/2026-11-22T10:00:00.5Z", "vm/101/2026-11-22T10:00:00+01:00",
            "vm/../2026-11-22T10:00:00Z", "vm/.hidden/2026-11-22T10:00:00Z", "ns//vm/1/2026-11-22T10:00:00Z",
            "ns/vm/1/2026-11-22T10:00:00Z", "vm/1/2026-13-22T10:00:00Z", "vm/1/2026-11-22t10:00:00z",
            "ns/a/ns/b/ns/c/ns/d/ns/e/ns/f/ns/g/ns/h/vm/1/2026-11-22T10:00:00Z", "vm/1 2/2026-11-22T10:00:00Z",
            "vm/1/2026-11-22T10:00:00Z/"})
    void shouldRejectBadPaths(String path) {
        assertThatThrownBy(() -> SnapshotId.parsePath(path)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1969-12-31T23:59:59Z", "2026-11-22T10:00:00.001Z"})
    void shouldRejectTimesOutsideTheFormat(String time) {
        assertThatThrownBy(() -> new SnapshotId(null, "vm", "1", Instant.parse(time)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
