package dev.coffer.store.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coffer.store.http.ApiFixture.Resp;
import dev.coffer.store.http.ApiUploads.Disk;
import dev.coffer.store.http.ApiUploads.Session;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Path traversal in every position a name reaches the server: datastore, namespace, group,
 * restore point, file name, digest, session and reader id. Requests go out byte for byte over a raw
 * TLS socket (no client normalises them), with an admin token so that only name validation can
 * stop them. Each must be refused with 400 (or 404 when the path no longer names a route or a
 * datastore) and a JSON error, and nothing on disk may change, inside the datastore or out.
 */
final class HttpApiNamesTest {

    private static final String DSP = "/api/v1/datastores/" + ApiFixture.DS;
    private static final String T = "2026-01-01T00:00:00Z";

    @TempDir
    static Path dir;
    static ApiFixture f;
    static String snap;
    static Session session;
    static String reader;
    static ApiFixture.RawConnection conn;

    @BeforeAll
    static void start() throws Exception {
        f = ApiFixture.start(dir, Duration.ofMinutes(10));
        // what a traversal would reach: files beside and above the datastore
        Files.createDirectories(dir.resolve("etc"));
        Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0\n");
        Files.writeString(dir.resolve("secret.txt"), "secret\n");
        Disk d = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 1);
        snap = ApiUploads.backup(f, f.admin, "vm/1", T, d);
        session = ApiUploads.session(f, f.admin, "vm/1", "2026-01-02T00:00:00Z");
        conn = f.new RawConnection();
        reader = f.post(DSP + "/readers", f.admin, java.util.Map.of("snapshot", snap)).json().get("reader").asText();
    }

    @AfterAll
    static void stop() throws Exception {
        if (conn != null) {
            conn.close();
        }
        if (f != null) {
            f.close();
        }
    }

    /** Everything below the test's root, files and directories, but RocksDB's own files. */
    private static TreeSet<String> tree() throws Exception {
        TreeSet<String> out = new TreeSet<>();
        try (Stream<Path> w = Files.walk(dir)) {
            w.map(p -> dir.relativize(p).toString()).filter(p -> !p.startsWith("ds/.coffer/index/")).forEach(out::add);
        }
        return out;
    }

    private static final List<String> TRAVERSALS = List.of("..", "%2e%2e", "%2E%2E", "..%2f..%2fetc%2fpasswd", "..%2F..%2F..%2Fsecret.txt",
            "%2e%2e%2f%2e%2e%2fetc", ".hidden", "a%00b", "%2fetc%2fpasswd", "..%5c..%5cetc");

    /** Sends a request as is; returns the response. */
    private static Resp raw(String method, String path, String body) throws Exception {
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + path + " HTTP/1.1\r\nAuthorization: Bearer " + f.admin
                + (body == null ? "" : "\r\nContent-Type: application/json") + "\r\nContent-Length: " + b.length;
        return conn.send(head, b);
    }

    /** The requests of one name position, each built from one traversal string. */
    private interface Position {
        List<Resp> send(String evil) throws Exception;
    }

    private static void assertAllRefused(String position, Position p) throws Exception {
        TreeSet<String> before = tree();
        List<String> problems = new ArrayList<>();
        for (String evil : TRAVERSALS) {
            for (Resp r : p.send(evil)) {
                String what = position + " '" + evil + "': " + r;
                if (r.status() != 400 && r.status() != 404) {
                    problems.add("status " + what);
                    continue;
                }
                String ct = r.header("content-type");
                JsonNode j = ct != null && ct.startsWith("application/json") ? r.json() : null;
                if (j == null || !j.has("error") || !j.has("message")) {
                    problems.add("no JSON error body: " + what);
                } else if (r.status() == 400 && !List.of("bad-name", "bad-digest", "bad-session", "bad-reader")
                        .contains(j.get("error").asText())) {
                    problems.add("code " + what);
                } else if (r.status() == 404 && !List.of("not-found", "no-such-datastore", "no-such-file")
                        .contains(j.get("error").asText())) {
                    problems.add("code " + what);
                }
            }
        }
        assertThat(problems).as("requests not refused properly").isEmpty();
        assertThat(tree()).as("nothing on disk changed").isEqualTo(before);
        assertThat(Files.readString(dir.resolve("etc/passwd"))).isEqualTo("root:x:0:0\n");
    }

    @Test
    void shouldRefuseTraversalInTheDatastoreName() throws Exception {
        assertAllRefused("datastore", e -> List.of(
                raw("GET", "/api/v1/datastores/" + e + "/groups", null),
                raw("GET", "/api/v1/datastores/" + e + "/snapshot/manifest?snapshot=" + snap, null),
                raw("POST", "/api/v1/datastores/" + e + "/backups", "{\"group\":\"vm/2\",\"time\":\"" + T + "\"}")));
        Resp unknown = raw("GET", "/api/v1/datastores/etc/groups", null);
        ApiFixture.assertError(unknown, 404, "no-such-datastore", "etc");
        ApiFixture.assertError(raw("GET", "/api/v1/datastores/default%2f..%2f..%2fetc/groups", null), 400, "bad-name", "datastore");
    }

    @Test
    void shouldRefuseTraversalInTheNamespace() throws Exception {
        assertAllRefused("ns", e -> List.of(
                raw("GET", DSP + "/groups?ns=" + e, null),
                raw("GET", DSP + "/groups?ns=a/" + e, null),
                raw("GET", DSP + "/snapshots?ns=" + e + "&group=vm/1", null),
                raw("POST", DSP + "/backups", "{\"ns\":\"" + json(e) + "\",\"group\":\"vm/2\",\"time\":\"" + T + "\"}")));
        ApiFixture.assertError(raw("GET", DSP + "/groups?ns=../../etc", null), 400, "bad-name", "namespace");
    }

    @Test
    void shouldRefuseTraversalInTheGroup() throws Exception {
        assertAllRefused("group", e -> List.of(
                raw("GET", DSP + "/snapshots?group=" + e, null),
                raw("GET", DSP + "/snapshots?group=vm/" + e, null),
                raw("GET", DSP + "/snapshots?group=" + e + "/1", null),
                raw("POST", DSP + "/backups", "{\"group\":\"vm/" + json(e) + "\",\"time\":\"" + T + "\"}"),
                raw("POST", DSP + "/backups", "{\"group\":\"" + json(e) + "/1\",\"time\":\"" + T + "\"}")));
        ApiFixture.assertError(raw("GET", DSP + "/snapshots?group=vm/../../../etc", null), 400, "bad-name", "group");
        ApiFixture.assertError(raw("POST", DSP + "/backups", "{\"group\":\"ns/1\",\"time\":\"" + T + "\"}"), 400, "bad-name",
                "reserved");
    }

    @Test
    void shouldRefuseTraversalInTheRestorePoint() throws Exception {
        assertAllRefused("snapshot", e -> {
            List<Resp> out = new ArrayList<>();
            for (String s : List.of(e, "vm/1/" + e, "vm/" + e + "/" + T, e + "/1/" + T, "ns/" + e + "/vm/1/" + T, e + "/" + e + "/etc/passwd",
                    "vm/1/" + T + "/" + e)) {
                out.add(raw("GET", DSP + "/snapshot/manifest?snapshot=" + s, null));
                out.add(raw("GET", DSP + "/snapshot/files/drive0.fidx?snapshot=" + s, null));
                out.add(raw("DELETE", DSP + "/snapshot?snapshot=" + s, null));
                out.add(raw("PUT", DSP + "/snapshot/protected?snapshot=" + s, "{\"protected\":true}"));
                out.add(raw("POST", DSP + "/readers", "{\"snapshot\":\"" + json(s) + "\"}"));
            }
            return out;
        });
        ApiFixture.assertError(raw("GET", DSP + "/snapshot/manifest?snapshot=../../etc/passwd", null), 400, "bad-name", "../../etc/passwd");
        assertThat(f.snapshots()).containsExactly(snap);
    }

    @Test
    void shouldRefuseTraversalInFileNames() throws Exception {
        assertAllRefused("file", e -> List.of(
                raw("GET", DSP + "/snapshot/files/" + e + "?snapshot=" + snap, null),
                raw("GET", session.path + "/base/" + e, null),
                raw("PUT", session.path + "/files/" + e, "<domain/>"),
                raw("PUT", session.path + "/files/" + e + ".fidx", "x")));
        ApiFixture.assertError(raw("GET", DSP + "/snapshot/files/..%2f..%2fowner?snapshot=" + snap, null), 400, "bad-name", "../../owner");
        ApiFixture.assertError(raw("PUT", session.path + "/files/..%2f..%2f..%2fsecret.txt", "x"), 400, "bad-name", "secret.txt");
        assertThat(f.tmpFiles()).allMatch(p -> p.startsWith(session.id + "/") || p.equals(session.id));
    }

    @Test
    void shouldRefuseTraversalInDigestsAndIds() throws Exception {
        assertAllRefused("digest or id", e -> List.of(
                raw("PUT", session.path + "/chunks/" + e + "?size=1", "x"),
                raw("POST", session.path + "/known", "{\"digests\":[\"" + json(e) + "\"]}"),
                raw("GET", DSP + "/readers/" + reader + "/chunks/" + e, null),
                raw("GET", DSP + "/readers/" + e + "/chunks/" + "0".repeat(64), null),
                raw("POST", DSP + "/readers/" + e + "/heartbeat", ""),
                raw("POST", DSP + "/backups/" + e + "/heartbeat", ""),
                raw("DELETE", DSP + "/backups/" + e, null)));
        ApiFixture.assertError(raw("PUT", session.path + "/chunks/..%2f..%2fsecret.txt?size=1", "x"), 400, "bad-digest", "secret.txt");
        ApiFixture.assertError(raw("GET", DSP + "/readers/..%2f..%2fetc/chunks/" + "0".repeat(64), null), 400, "bad-reader");
    }

    /** {@code e} as it would be inside a JSON string after URL decoding: the body is not URL-encoded. */
    private static String json(String e) {
        return java.net.URLDecoder.decode(e, StandardCharsets.UTF_8).replace("\\", "\\\\").replace("\u0000", "\\u0000");
    }
}
