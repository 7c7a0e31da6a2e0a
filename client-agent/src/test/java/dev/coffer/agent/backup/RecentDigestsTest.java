package dev.coffer.agent.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.chunker.Digest;
import org.junit.jupiter.api.Test;

final class RecentDigestsTest {

    private static Digest d(int i) {
        byte[] b = new byte[32];
        b[0] = (byte) i;
        b[1] = (byte) (i >> 8);
        return Digest.of(b);
    }

    @Test
    void shouldReportRepeatsOnlyWhileRemembered() {
        RecentDigests r = new RecentDigests(3);
        assertThat(r.firstTime(d(1))).isTrue();
        assertThat(r.firstTime(d(1))).isFalse();
        assertThat(r.firstTime(d(2))).isTrue();
        assertThat(r.firstTime(d(3))).isTrue();
        assertThat(r.firstTime(d(1))).isFalse(); // recently used: stays
        assertThat(r.firstTime(d(4))).isTrue(); // evicts 2, the least recently used
        assertThat(r.firstTime(d(2))).isTrue();
        assertThat(r.firstTime(d(1))).isFalse();
    }
}
