package dev.coffer.store.http;

import static dev.coffer.store.http.ApiFixture.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.http.ApiFixture.Resp;
import dev.coffer.store.http.ApiUploads.Disk;
import dev.coffer.store.http.ApiUploads.Session;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sessions are leases (safety rule 3): a server with a lease of one second, whose expiry the test
 * runs itself (as the server's 10-second timer would), so a client that goes quiet loses its
 * session, publishes nothing, and frees its group.
 */
final class HttpApiLeaseTest {

    private static final String DSP = "/api/v1/datastores/" + ApiFixture.DS;
    private static final Duration LEASE = Duration.ofSeconds(1);

    @TempDir
    static Path dir;
    static ApiFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ApiFixture.start(dir, LEASE);
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void shouldExpireAnIdleBackupSessionAndPublishNothing() throws Exception {
        Session s = ApiUploads.session(f, f.admin, "vm/1", "2026-01-01T00:00:00Z");
        Disk d = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 1);
        s.chunks(d);
        s.index(d);
        // heartbeats keep it: idle time restarts with each
        for (int i = 0; i < 3; i++) {
            Thread.sleep(LEASE.toMillis() / 2);
            assertThat(f.post(s.path + "/heartbeat", f.admin, new byte[0]).status()).isEqualTo(204);
            f.service().expireIdle();
        }
        Thread.sleep(LEASE.toMillis() + 300);
        f.service().expireIdle();
        assertError(f.post(s.path + "/heartbeat", f.admin, new byte[0]), 404, "no-such-session", s.id, "expired");
        assertError(s.finish(List.of(d), Map.of()), 404, "no-such-session");
        assertThat(f.tmpFiles()).as("staged files removed").isEmpty();
        assertThat(f.snapshots()).isEmpty();
        assertThat(f.service().backups().openCount()).isZero();
        // the group is free again
        Session next = ApiUploads.session(f, f.admin, "vm/1", "2026-01-01T00:00:00Z");
        assertThat(next.abort().status()).isEqualTo(204);
    }

    @Test
    void shouldExpireAnIdleReaderAndReleaseItsRestorePoint() throws Exception {
        Disk d = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 2);
        String snap = ApiUploads.backup(f, f.admin, "vm/2", "2026-01-01T00:00:00Z", d);
        Resp r = f.post(DSP + "/readers", f.admin, Map.of("snapshot", snap));
        String path = DSP + "/readers/" + r.json().get("reader").asText();
        assertThat(f.get(path + "/chunks/" + d.digests().getFirst().hex(), f.admin).status()).isEqualTo(200);
        Thread.sleep(LEASE.toMillis() + 300);
        f.service().expireIdle();
        assertError(f.get(path + "/chunks/" + d.digests().getFirst().hex(), f.admin), 404, "no-such-reader", "expired");
        assertThat(f.send("DELETE", DSP + "/snapshot?snapshot=" + snap, f.admin, null).status()).as("lock released").isEqualTo(204);
    }
}
