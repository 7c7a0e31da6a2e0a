package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class NamesTest {

    @ParameterizedTest
    @ValueSource(strings = {"", "..", ".", "../etc", "a/b", "a\\b", ".hidden", "-x", "a b", "a\u0000b", "é", "a\nb",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
    void shouldRejectDatastoreNamesThatCouldEscape(String name) {
        assertThatThrownBy(() -> Names.datastore(name)).isInstanceOf(Names.InvalidNameException.class)
                .hasMessageStartingWith("datastore name '");
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "../..", "a/../b", "a//b", "/a", "a/", "ns/.", "a/b/c/d/e/f/g/h"})
    void shouldRejectBadNamespaces(String ns) {
        assertThatThrownBy(() -> Names.namespace(ns)).isInstanceOf(Names.InvalidNameException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "../x", "x/y", "", "-rf", "a\u202eb"})
    void shouldRejectBadIdsAndItems(String name) {
        assertThatThrownBy(() -> Names.id(name)).isInstanceOf(Names.InvalidNameException.class);
        assertThatThrownBy(() -> Names.item(name)).isInstanceOf(Names.InvalidNameException.class);
    }

    @Test
    void shouldEscapeWhatItQuotes() {
        assertThatThrownBy(() -> Names.id("a\nb'c")).hasMessageContaining("a\\u000ab\\u0027c");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-11-22T10:00:00", "2026-11-22T10:00:00.5Z", "2026-13-01T00:00:00Z", "2026-11-22 10:00:00Z",
            "2026-11-22T10:00:00+00:00", "../../../../../../etc"})
    void shouldAcceptOnlyWholeSecondUtcTimes(String t) {
        assertThatThrownBy(() -> SnapshotId.parseTime(t)).isInstanceOf(Names.InvalidNameException.class);
    }

    @Test
    void shouldReserveTheNamespaceTypeName() {
        assertThatThrownBy(() -> Names.type("ns")).isInstanceOf(Names.InvalidNameException.class).hasMessageContaining("reserved");
    }

    @Test
    void shouldRoundTripGroupAndSnapshotNames() {
        assertThat(GroupId.parse("a/b", "vm/101").path()).isEqualTo("ns/a/ns/b/vm/101");
        assertThat(GroupId.parse(null, "vm/101").relativePath()).isEqualTo(Path.of("vm/101"));
        assertThatThrownBy(() -> GroupId.parse(null, "vm")).isInstanceOf(Names.InvalidNameException.class);
        SnapshotId s = SnapshotId.parsePath("ns/site-a/ns/t1/vm/101/2026-11-22T10:00:00Z");
        assertThat(s.group()).isEqualTo(new GroupId("site-a/t1", "vm", "101"));
        assertThat(s.time()).isEqualTo(Instant.parse("2026-11-22T10:00:00Z"));
        assertThat(s).hasToString("ns/site-a/ns/t1/vm/101/2026-11-22T10:00:00Z");
        assertThat(s.relativePath()).isEqualTo(Path.of("ns/site-a/ns/t1/vm/101/2026-11-22T10:00:00Z"));
        assertThat(SnapshotId.parsePath("vm/101/2026-11-22T10:00:00Z").relativePath())
                .isEqualTo(Path.of("vm/101/2026-11-22T10:00:00Z"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"vm/101", "vm/../2026-11-22T10:00:00Z", "ns/vm/101/2026-11-22T10:00:00Z",
            "ns/x/ns/101/2026-11-22T10:00:00Z", "vm/101/2026-11-22T10:00:00Z/extra", "VM/101/2026-11-22T10:00:00Z"})
    void shouldRejectMalformedSnapshotNames(String text) {
        assertThatThrownBy(() -> SnapshotId.parsePath(text)).isInstanceOf(Names.InvalidNameException.class);
    }
}
