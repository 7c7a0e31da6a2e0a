package dev.coffer.store.http;

import static dev.coffer.store.http.ApiFixture.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coffer.chunker.Digest;
import dev.coffer.store.http.ApiFixture.Resp;
import dev.coffer.store.http.ApiUploads.Disk;
import dev.coffer.store.http.ApiUploads.Session;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading over real HTTPS: restore point files, reader sessions and what they may fetch, the
 * base files of a backup session, and protecting and deleting restore points.
 */
final class HttpApiReadTest {

    private static final String DSP = "/api/v1/datastores/" + ApiFixture.DS;

    @TempDir
    static Path dir;
    static ApiFixture f;
    static String reader;
    static Disk d1;
    static Disk d2;
    static String snap1;
    static String snap2;

    @BeforeAll
    static void start() throws Exception {
        f = ApiFixture.start(dir, Duration.ofMinutes(10));
        reader = f.token("restorer", "read", "*", null)[1];
        d1 = ApiUploads.disk(dir, "drive0", 2 * ApiFixture.CHUNK + 1000, 1);
        d2 = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 2);
        snap1 = ApiUploads.backup(f, f.admin, "vm/1", "2026-01-01T00:00:00Z", d1);
        snap2 = ApiUploads.backup(f, f.admin, "vm/2", "2026-01-01T00:00:00Z", d2);
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    private static String open(String token, String snapshot) throws Exception {
        Resp r = f.post(DSP + "/readers", token, Map.of("snapshot", snapshot));
        assertThat(r.status()).as("%s", r).isEqualTo(201);
        assertThat(r.json().get("snapshot").asText()).isEqualTo(snapshot);
        return DSP + "/readers/" + r.json().get("reader").asText();
    }

    @Test
    void shouldServeOnlyTheChunksTheRestorePointReferences() throws Exception {
        String r = open(reader, snap1);
        for (int i = 0; i < d1.digests().size(); i++) {
            Resp c = f.get(r + "/chunks/" + d1.digests().get(i).hex(), reader);
            assertThat(c.status()).isEqualTo(200);
            assertThat(c.body()).isEqualTo(d1.blobs().get(i));
        }
        // a chunk of another group, which exists in the datastore
        Digest foreign = d2.digests().getFirst();
        assertThat(f.chunkFiles()).contains(foreign.hex().substring(0, 4) + "/" + foreign.hex());
        assertError(f.get(r + "/chunks/" + foreign.hex(), reader), 404, "no-such-chunk", foreign.hex(), snap1);
        assertError(f.get(r + "/chunks/" + "ab".repeat(32), reader), 404, "no-such-chunk");
        assertError(f.get(r + "/chunks/" + "AB".repeat(32), reader), 400, "bad-digest");
        assertThat(f.post(r + "/heartbeat", reader, new byte[0]).status()).isEqualTo(204);
        assertThat(f.send("DELETE", r, reader, null).status()).isEqualTo(204);
        assertError(f.get(r + "/chunks/" + d1.digests().getFirst().hex(), reader), 404, "no-such-reader");
        assertError(f.post(r + "/heartbeat", reader, new byte[0]), 404, "no-such-reader");
    }

    @Test
    void shouldRefuseAnotherTokensReaderWith403() throws Exception {
        String r = open(reader, snap1);
        String chunk = r + "/chunks/" + d1.digests().getFirst().hex();
        // even an admin: a reader id seen somewhere must not let anyone else read through it
        for (String other : List.of(f.token("other-reader", "read", "*", null)[1], f.admin)) {
            assertError(f.get(chunk, other), 403, "forbidden", "another token's reader");
            assertError(f.post(r + "/heartbeat", other, new byte[0]), 403, "forbidden");
            assertError(f.send("DELETE", r, other, null), 403, "forbidden");
        }
        assertThat(f.get(chunk, reader).status()).isEqualTo(200);
        assertThat(f.send("DELETE", r, reader, null).status()).isEqualTo(204);
    }

    @Test
    void shouldServeRestorePointFiles() throws Exception {
        Resp m = f.get(DSP + "/snapshot/manifest?snapshot=" + snap1, reader);
        assertThat(m.status()).isEqualTo(200);
        assertThat(m.header("content-type")).startsWith("application/json");
        assertThat(m.body()).isEqualTo(Files.readAllBytes(f.datastoreDir.resolve(snap1).resolve("manifest.json")));
        Resp idx = f.get(DSP + "/snapshot/files/drive0.fidx?snapshot=" + snap1, reader);
        assertThat(idx.status()).isEqualTo(200);
        assertThat(idx.body()).isEqualTo(d1.index());
        assertError(f.get(DSP + "/snapshot/files/nope.xml?snapshot=" + snap1, reader), 404, "no-such-file", "nope.xml");
        assertError(f.get(DSP + "/snapshot/manifest?snapshot=vm/1/2030-01-01T00:00:00Z", reader), 404, "no-such-file",
                "does not exist");
        assertError(f.get(DSP + "/snapshot/manifest", reader), 400, "missing-parameter", "snapshot");
        assertError(f.post(DSP + "/readers", reader, Map.of("snapshot", "vm/1/2030-01-01T00:00:00Z")), 404, "no-such-snapshot");
        JsonNode list = f.get(DSP + "/snapshots?group=vm/1", reader).json();
        assertThat(list).hasSize(1);
        assertThat(list.get(0).get("snapshot").asText()).isEqualTo(snap1);
        assertThat(list.get(0).get("disks").get(0).get("size").asLong()).isEqualTo(d1.image().length);
    }

    @Test
    void shouldServeTheBaseOfABackupSession() throws Exception {
        Session s = ApiUploads.session(f, f.admin, "vm/1", "2026-01-05T00:00:00Z");
        try {
            assertThat(s.base).isEqualTo(snap1);
            Resp m = f.get(s.path + "/base/manifest.json", f.admin);
            assertThat(m.status()).isEqualTo(200);
            assertThat(f.get(s.path + "/base/drive0.fidx", f.admin).body()).isEqualTo(d1.index());
            assertError(f.get(s.path + "/base/nope.fidx", f.admin), 404, "no-such-file", "nope.fidx");
        } finally {
            s.abort();
        }
        Session fresh = ApiUploads.session(f, f.admin, "vm/new", "2026-01-05T00:00:00Z");
        try {
            assertError(f.get(fresh.path + "/base/manifest.json", f.admin), 404, "no-base", fresh.id);
        } finally {
            fresh.abort();
        }
    }

    @Test
    void shouldRefuseToDeleteAProtectedRestorePointWith409() throws Exception {
        Disk d = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 3);
        String snap = ApiUploads.backup(f, f.admin, "vm/3", "2026-01-01T00:00:00Z", d);
        String q = "?snapshot=" + snap;
        Resp p = f.send("PUT", DSP + "/snapshot/protected" + q, f.admin, "{\"protected\":true}".getBytes());
        assertThat(p.status()).as("%s", p).isEqualTo(200);
        assertThat(p.json().get("protected").asBoolean()).isTrue();
        assertError(f.send("DELETE", DSP + "/snapshot" + q, f.admin, null), 409, "protected", snap, "unprotect");
        assertThat(f.snapshots()).contains(snap);
        assertThat(f.send("PUT", DSP + "/snapshot/protected" + q, f.admin, "{\"protected\":false}".getBytes()).status())
                .isEqualTo(200);
        assertThat(f.send("DELETE", DSP + "/snapshot" + q, f.admin, null).status()).isEqualTo(204);
        assertThat(f.snapshots()).doesNotContain(snap);
        assertError(f.send("DELETE", DSP + "/snapshot" + q, f.admin, null), 404, "no-such-snapshot", snap);
        assertError(f.send("PUT", DSP + "/snapshot/protected" + q, f.admin, "{\"protected\":true}".getBytes()), 404,
                "no-such-snapshot");
    }

    @Test
    void shouldRefuseToDeleteARestorePointInUseWith409() throws Exception {
        Disk d = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 4);
        String snap = ApiUploads.backup(f, f.admin, "vm/4", "2026-01-01T00:00:00Z", d);
        String r = open(reader, snap);
        assertError(f.send("DELETE", DSP + "/snapshot?snapshot=" + snap, f.admin, null), 409, "in-use", snap);
        assertThat(f.send("DELETE", r, reader, null).status()).isEqualTo(204);
        assertThat(f.send("DELETE", DSP + "/snapshot?snapshot=" + snap, f.admin, null).status()).isEqualTo(204);
        assertThat(f.get(DSP + "/snapshots?group=vm/4", reader).json()).isEmpty();
    }
}
