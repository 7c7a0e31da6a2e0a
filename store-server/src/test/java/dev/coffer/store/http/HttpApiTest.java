package dev.coffer.store.http;

import static dev.coffer.store.http.ApiFixture.assertError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coffer.store.datastore.DatastoreOptions;
import dev.coffer.store.http.ApiFixture.Resp;
import dev.coffer.store.http.ApiUploads.Disk;
import dev.coffer.store.http.ApiUploads.Session;
import dev.coffer.store.server.StoreServer;
import java.io.IOException;
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
 * The HTTP API over real HTTPS: authentication, roles, token administration, JSON bodies, unknown
 * routes, {@code /metrics}, and the transport rules. Every refusal is checked for its status, its
 * JSON error body and for leaving nothing behind.
 */
final class HttpApiTest {

    private static final String DSP = "/api/v1/datastores/" + ApiFixture.DS;

    @TempDir
    static Path dir;
    static ApiFixture f;
    /** {id, token} of a backup, a second backup, and a read token on every datastore. */
    static String[] backup;
    static String[] backup2;
    static String[] read;

    @BeforeAll
    static void start() throws Exception {
        f = ApiFixture.start(dir, Duration.ofMinutes(10));
        backup = f.token("host-a", "backup", "*", null);
        backup2 = f.token("host-b", "backup", "*", null);
        read = f.token("auditor", "read", "*", null);
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    // ---- authentication

    @Test
    void shouldRefuseRequestsWithoutAValidTokenWith401() throws Exception {
        assertError(f.get(DSP + "/groups", null), 401, "unauthorized", "Bearer");
        assertError(f.get(DSP + "/groups", "coffer_000000000000_" + "A".repeat(43)), 401, "unauthorized");
        assertError(f.get(DSP + "/groups", "garbage"), 401, "unauthorized");
        assertError(f.get(DSP + "/groups", ""), 401, "unauthorized");
        // a right token with a wrong secret
        assertError(f.get(DSP + "/groups", backup[1].substring(0, backup[1].length() - 1) + "x"), 401, "unauthorized");
        // Basic instead of Bearer
        Resp basic = f.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(f.server.url() + DSP + "/groups"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(("x:" + backup[1]).getBytes())).build());
        assertError(basic, 401, "unauthorized");
        // even unknown routes under /api/v1 answer 401 first: they reveal nothing to strangers
        assertError(f.get("/api/v1/no-such-route", null), 401, "unauthorized");
    }

    @Test
    void shouldRefuseARevokedTokenAtOnce() throws Exception {
        String[] t = f.token("short-lived", "read", "*", null);
        assertThat(f.get(DSP + "/groups", t[1]).status()).isEqualTo(200);
        assertThat(f.send("DELETE", "/api/v1/tokens/" + t[0], f.admin, null).status()).isEqualTo(204);
        assertError(f.get(DSP + "/groups", t[1]), 401, "unauthorized");
        JsonNode listed = f.get("/api/v1/tokens", f.admin).json();
        JsonNode entry = null;
        for (JsonNode n : listed) {
            if (n.get("id").asText().equals(t[0])) {
                entry = n;
            }
        }
        assertThat(entry).isNotNull();
        assertThat(entry.get("revoked").isNull()).as("revocation time recorded").isFalse();
        assertThat(listed.toString()).as("no secret in listings").doesNotContain(t[1]);
    }

    // ---- roles

    @Test
    void shouldRefuseAReadTokenBeginningABackupWith403() throws Exception {
        assertError(ApiUploads.begin(f, read[1], "vm/role-1", "2026-01-01T00:00:00Z"), 403, "forbidden", "create restore points");
        assertThat(f.service().backups().openCount()).isZero();
        assertThat(f.snapshots()).noneMatch(s -> s.contains("role-1"));
    }

    @Test
    void shouldRefuseABackupTokenDeletingOrProtectingARestorePointWith403() throws Exception {
        Disk d = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 1);
        String snap = ApiUploads.backup(f, backup[1], "vm/role-2", "2026-01-01T00:00:00Z", d);
        assertError(f.send("DELETE", DSP + "/snapshot?snapshot=" + snap, backup[1], null), 403, "forbidden", "delete");
        assertError(f.send("PUT", DSP + "/snapshot/protected?snapshot=" + snap, backup[1], "{\"protected\":true}".getBytes()),
                403, "forbidden", "protect");
        assertError(f.send("DELETE", DSP + "/snapshot?snapshot=" + snap, read[1], null), 403, "forbidden", "delete");
        assertThat(f.snapshots()).contains(snap);
        assertThat(Files.exists(f.datastoreDir.resolve(snap).resolve("manifest.json"))).isTrue();
    }

    @Test
    void shouldLetOnlyServerAdminsManageTokens() throws Exception {
        for (String t : List.of(backup[1], read[1], f.token("ds-admin", "admin", ApiFixture.DS, null)[1])) {
            assertError(f.get("/api/v1/tokens", t), 403, "forbidden", "manage tokens");
            assertError(f.post("/api/v1/tokens", t, Map.of("name", "x", "grants", List.of(Map.of("datastore", "*", "role", "admin")))),
                    403, "forbidden", "manage tokens");
            assertError(f.send("DELETE", "/api/v1/tokens/" + backup[0], t, null), 403, "forbidden", "manage tokens");
        }
        assertThat(f.server.tokens().list()).noneMatch(tok -> tok.name().equals("x"));
        assertThat(f.get(DSP + "/groups", backup[1]).status()).as("backup token not revoked").isEqualTo(200);
    }

    @Test
    void shouldRefuseAnotherTokensSessionWith403() throws Exception {
        Session s = ApiUploads.session(f, backup[1], "vm/role-3", "2026-01-01T00:00:00Z");
        Disk d = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 3);
        var before = f.chunkFiles();
        Session stolen = new Session(f, backup2[1], s.id, s.snapshot, null);
        assertError(stolen.chunk(d.digests().getFirst(), d.blobs().getFirst(), ApiFixture.CHUNK), 403, "forbidden", "another token");
        assertError(stolen.file("drive0.fidx", d.index()), 403, "forbidden", "another token");
        assertError(stolen.finish(List.of(d), Map.of()), 403, "forbidden", "another token");
        assertError(f.post(s.path + "/heartbeat", backup2[1], new byte[0]), 403, "forbidden", "another token");
        assertError(stolen.abort(), 403, "forbidden", "another token");
        assertThat(f.chunkFiles()).isEqualTo(before);
        assertThat(f.tmpFiles()).noneMatch(p -> p.endsWith("drive0.fidx"));
        // the owner's session is still alive
        assertThat(f.post(s.path + "/heartbeat", backup[1], new byte[0]).status()).isEqualTo(204);
        assertThat(s.abort().status()).isEqualTo(204);
    }

    @Test
    void shouldNotLetABackupTokenWriteOrReadAGroupAnotherTokenOwns() throws Exception {
        Disk d = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 4);
        String snap = ApiUploads.backup(f, backup[1], "vm/role-4", "2026-01-01T00:00:00Z", d);
        assertError(ApiUploads.begin(f, backup2[1], "vm/role-4", "2026-01-02T00:00:00Z"), 403, "not-owner", "belongs to another token");
        assertError(f.get(DSP + "/snapshot/manifest?snapshot=" + snap, backup2[1]), 403, "forbidden", "vm/role-4");
        assertError(f.post(DSP + "/readers", backup2[1], Map.of("snapshot", snap)), 403, "forbidden", "vm/role-4");
        assertThat(f.get(DSP + "/snapshots?group=vm/role-4", backup2[1]).json()).as("not listed to others").isEmpty();
        assertThat(f.get(DSP + "/snapshots?group=vm/role-4", read[1]).json()).hasSize(1);
    }

    // ---- bodies and routes

    @Test
    void shouldAnswerMalformedJsonBodiesWith400() throws Exception {
        assertError(f.post(DSP + "/backups", backup[1], "{\"group\": \"vm/1\",".getBytes()), 400, "bad-body", "BeginBackupRequest");
        assertError(f.post(DSP + "/backups", backup[1], "[1,2]".getBytes()), 400, "bad-body", "BeginBackupRequest");
        assertError(f.post(DSP + "/backups", backup[1], new byte[0]), 400, "bad-body");
        assertError(f.post(DSP + "/backups", backup[1], "null".getBytes()), 400, "bad-body", "BeginBackupRequest");
        assertError(f.post(DSP + "/backups", backup[1], "{}".getBytes()), 400, "bad-body", "'group' and 'time'");
        assertError(f.post(DSP + "/backups", backup[1], "{\"group\":\"vm/x\",\"time\":\"yesterday\"}".getBytes()), 400, "bad-name",
                "yesterday");
        assertError(f.post(DSP + "/backups", backup[1], "{\"group\":\"vm/x\",\"time\":\"2026-01-01T00:00:00Z\",\"crypt\":\"rot13\"}"
                .getBytes()), 400, "bad-crypt", "rot13");
        assertError(f.post(DSP + "/readers", read[1], "{}".getBytes()), 400, "bad-body", "snapshot");
        assertError(f.post(DSP + "/readers", read[1], "{\"snapshot\": 5".getBytes()), 400, "bad-body", "OpenReaderRequest");
        assertError(f.post("/api/v1/tokens", f.admin, "{\"name\": \"x\"}".getBytes()), 400, "bad-body", "grant");
        assertError(f.post("/api/v1/tokens", f.admin, Map.of("name", "../x", "grants", List.of(Map.of("datastore", "*", "role", "read")))),
                400, "bad-body", "token name");
        assertError(f.post("/api/v1/tokens", f.admin, Map.of("name", "x", "grants", List.of(Map.of("datastore", "*", "role", "root")))),
                400, "bad-body", "root");
        assertThat(f.service().backups().openCount()).isZero();
        assertThat(f.server.tokens().list()).noneMatch(t -> t.name().equals("x"));
    }

    @Test
    void shouldRefuseJsonBodiesOverOneMebibyteWith413() throws Exception {
        byte[] big = ("{\"group\":\"vm/big\",\"time\":\"2026-01-01T00:00:00Z\",\"pad\":\"" + "x".repeat(1 << 20) + "\"}").getBytes();
        assertError(f.post(DSP + "/backups", backup[1], big), 413, "too-large");
        assertThat(f.service().backups().openCount()).isZero();
    }

    @Test
    void shouldAnswerUnknownRoutesWith404Json() throws Exception {
        assertError(f.get("/api/v1/no-such-route", f.admin), 404, "not-found", "/api/v1/no-such-route");
        assertError(f.send("PATCH", "/api/v1/tokens", f.admin, new byte[0]), 404, "not-found", "PATCH");
        assertError(f.get("/no-such-page", null), 404, "not-found", "/no-such-page");
        assertError(f.get(DSP + "/no-such-thing", f.admin), 404, "not-found");
        assertError(f.get("/api/v1/datastores/other/groups", f.admin), 404, "no-such-datastore", "other");
        assertError(f.send("DELETE", "/api/v1/tokens/0123456789ab", f.admin, null), 404, "no-such-token", "0123456789ab");
    }

    @Test
    void shouldServeMetricsThatCountUploads() throws Exception {
        Resp r = f.get("/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).startsWith("text/plain");
        assertThat(r.text()).contains("# TYPE coffer_chunks_uploaded_total counter", "coffer_backup_sessions_open ", "coffer_datastores 1");
        long before = f.metric("coffer_chunks_uploaded_total");
        long bytesBefore = f.metric("coffer_upload_bytes_total");
        long published = f.metric("coffer_snapshots_published_total");
        Disk d = ApiUploads.disk(dir, "drive0", 2 * ApiFixture.CHUNK, 5);
        ApiUploads.backup(f, backup[1], "vm/metrics", "2026-01-01T00:00:00Z", d);
        assertThat(f.metric("coffer_chunks_uploaded_total")).isEqualTo(before + 2);
        assertThat(f.metric("coffer_upload_bytes_total")).isEqualTo(bytesBefore + d.blobs().get(0).length + d.blobs().get(1).length);
        assertThat(f.metric("coffer_snapshots_published_total")).isEqualTo(published + 1);
    }

    @Test
    void shouldListDatastoresAndGroupsAsJson() throws Exception {
        JsonNode ds = f.get("/api/v1/datastores", read[1]).json();
        assertThat(ds).hasSize(1);
        assertThat(ds.get(0).get("name").asText()).isEqualTo(ApiFixture.DS);
        assertThat(ds.get(0).get("chunk_size").asInt()).isEqualTo(ApiFixture.CHUNK);
        Resp g = f.get(DSP + "/groups", read[1]);
        assertThat(g.status()).isEqualTo(200);
        assertThat(g.json().isArray()).isTrue();
        assertThat(f.get(DSP + "/namespaces", read[1]).json().isArray()).isTrue();
    }

    // ---- transport

    @Test
    void shouldSpeakHttp2WhenTheClientOffersIt() throws Exception {
        java.net.http.HttpClient h2 = java.net.http.HttpClient.newBuilder().sslContext(f.tls)
                .version(java.net.http.HttpClient.Version.HTTP_2).build();
        java.net.http.HttpResponse<String> r = h2.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(f.server.url() + "/api/v1/datastores"))
                .header("Authorization", "Bearer " + f.admin).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
        assertThat(r.body()).contains("\"chunk_size\"");
    }

    @Test
    void shouldRefusePlainHttpOnANonLoopbackAddress() {
        Map<String, StoreServer.DatastoreSpec> ds = Map.of("default",
                new StoreServer.DatastoreSpec(dir.resolve("plain-ds"), DatastoreOptions.DEFAULT.withChunkSize(ApiFixture.CHUNK)));
        assertThatThrownBy(() -> StoreServer.start(new StoreServer.Options("0.0.0.0", 0, true, dir.resolve("plain-state"), ds,
                Duration.ofMinutes(1), List.of())))
                .isInstanceOf(IOException.class).hasMessageContaining("loopback").hasMessageContaining("0.0.0.0");
        assertThat(dir.resolve("plain-ds")).as("nothing created").doesNotExist();
        assertThat(dir.resolve("plain-state")).doesNotExist();
    }
}
