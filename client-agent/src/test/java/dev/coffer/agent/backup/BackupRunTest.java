package dev.coffer.agent.backup;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

final class BackupRunTest {

    @Test
    void shouldHeartbeatWellWithinTheServersLease() {
        assertThat(BackupRun.heartbeatMillis(300)).as("default lease: once a minute").isEqualTo(60_000);
        assertThat(BackupRun.heartbeatMillis(30)).isEqualTo(10_000);
        assertThat(BackupRun.heartbeatMillis(5)).isEqualTo(1_666);
        assertThat(BackupRun.heartbeatMillis(1)).as("never busier than twice a second").isEqualTo(500);
        assertThat(BackupRun.heartbeatMillis(0)).as("a server that names no lease").isEqualTo(60_000);
    }
}
