package dev.coffer.store.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coffer.store.api.PinnedTrust;
import dev.coffer.store.api.Wire;
import dev.coffer.store.datastore.DatastoreOptions;
import dev.coffer.store.datastore.DatastoreService;
import dev.coffer.store.datastore.SyncLevel;
import dev.coffer.store.server.StoreServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * A real {@link StoreServer} on 127.0.0.1 over HTTPS, and a JDK {@link HttpClient} pinned to its
 * certificate, so tests can send what {@code StoreClient} never would. One per test class.
 *
 * <p>Besides the client, a raw TLS socket ({@link #raw}) sends requests byte by byte, for what the
 * JDK client refuses to send (a Content-Length that lies, headers only).
 */
final class ApiFixture implements AutoCloseable {

    static final int CHUNK = 64 * 1024;
    static final String DS = "default";

    final Path root;
    final Path datastoreDir;
    final StoreServer server;
    final String admin;
    final SSLContext tls;
    final HttpClient http;

    private ApiFixture(Path root, StoreServer server) throws Exception {
        this.root = root;
        this.datastoreDir = root.resolve("ds");
        this.server = server;
        this.admin = server.bootstrapToken().orElseThrow();
        this.tls = SSLContext.getInstance("TLS");
        tls.init(null, new TrustManager[] {new PinnedTrust(server.fingerprint())}, null);
        this.http = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** Starts a server with one datastore {@value #DS} in {@code root/ds}, state in {@code root/state}. */
    static ApiFixture start(Path root, Duration lease) throws Exception {
        return start(root, lease, 0);
    }

    /** {@link #start(Path, Duration)} with an upload budget of {@code uploadBudget} bytes (0: the default). */
    static ApiFixture start(Path root, Duration lease, long uploadBudget) throws Exception {
        DatastoreOptions o = DatastoreOptions.DEFAULT.withChunkSize(CHUNK).withSyncLevel(SyncLevel.NONE);
        Map<String, StoreServer.DatastoreSpec> ds = new LinkedHashMap<>();
        ds.put(DS, new StoreServer.DatastoreSpec(root.resolve("ds"), o));
        StoreServer s = StoreServer.start(new StoreServer.Options("127.0.0.1", 0, false, root.resolve("state"), ds, lease, List.of())
                .withUploadBudget(uploadBudget));
        return new ApiFixture(root, s);
    }

    DatastoreService service() {
        return server.datastores().get(DS);
    }

    @Override
    public void close() throws IOException {
        http.close();
        server.close();
    }

    // ---- requests

    /** A response: status, headers (lowercase names), body. */
    record Resp(int status, Map<String, List<String>> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return Wire.mapper().readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + text(), e);
            }
        }

        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null || v.isEmpty() ? null : v.getFirst();
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }

    Resp send(String method, String path, String token, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return send(b.build());
    }

    Resp send(HttpRequest request) throws Exception {
        HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        Map<String, List<String>> h = new LinkedHashMap<>();
        r.headers().map().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v));
        return new Resp(r.statusCode(), h, r.body());
    }

    Resp get(String path, String token) throws Exception {
        return send("GET", path, token, null);
    }

    Resp post(String path, String token, Object json) throws Exception {
        return send("POST", path, token, json instanceof byte[] b ? b : Wire.toBytes(json));
    }

    /**
     * Sends {@code head} (request line and headers, CRLF-separated, without the blank line) and
     * {@code body} over a fresh TLS connection exactly as given, and reads one response.
     * {@code Connection: close} is added so the server ends the connection after answering.
     */
    Resp raw(String head, byte[] body) throws IOException {
        try (Socket s = tls.getSocketFactory().createSocket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write((head + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            return readResponse(s.getInputStream());
        }
    }

    /**
     * One kept-alive raw TLS connection: requests go out exactly as given, one after the other,
     * each answer read before the next request (reconnecting when the server closed the connection).
     */
    final class RawConnection implements AutoCloseable {
        private Socket socket;

        Resp send(String head, byte[] body) throws IOException {
            if (socket == null || socket.isClosed()) {
                socket = tls.getSocketFactory().createSocket("127.0.0.1", server.port());
                socket.setSoTimeout(10_000);
            }
            OutputStream out = socket.getOutputStream();
            out.write((head + "\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            Resp r = readResponse(socket.getInputStream());
            if ("close".equalsIgnoreCase(r.header("connection"))) {
                close();
            }
            return r;
        }

        @Override
        public void close() throws IOException {
            if (socket != null) {
                socket.close();
                socket = null;
            }
        }
    }

    /** Like {@link #raw} but gives up after sending: the connection is closed without reading an answer. */
    void rawAndHangUp(String head, byte[] body) throws IOException {
        try (Socket s = tls.getSocketFactory().createSocket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            out.write((head + "\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
        }
    }

    private static Resp readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream headBytes = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed before a full response head: " + headBytes);
            }
            headBytes.write(c);
            matched = (c == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (c == '\r' ? 1 : 0);
        }
        String[] lines = headBytes.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, List<String>> h = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                h.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), List.of(lines[i].substring(colon + 1).trim()));
            }
        }
        String cl = h.containsKey("content-length") ? h.get("content-length").getFirst() : null;
        byte[] body = cl == null ? in.readAllBytes() : in.readNBytes(Integer.parseInt(cl));
        return new Resp(status, h, body);
    }

    // ---- assertions

    /** Asserts the status and the JSON error body {"error", "message"} with this code and a message containing each of {@code words}. */
    static JsonNode assertError(Resp r, int status, String code, String... words) {
        assertThat(r.status()).as("status of %s", r).isEqualTo(status);
        assertThat(r.header("content-type")).as("content type of %s", r).startsWith("application/json");
        JsonNode j = r.json();
        assertThat(j.isObject()).as("error body %s", r).isTrue();
        assertThat(j.has("error") && j.has("message")).as("error body %s has error and message", r).isTrue();
        assertThat(j.get("error").asText()).as("error code of %s", r).isEqualTo(code);
        assertThat(j.get("message").asText()).as("message of %s", r).isNotBlank().doesNotContain("\n");
        for (String w : words) {
            assertThat(j.get("message").asText()).as("message of %s", r).contains(w);
        }
        return j;
    }

    // ---- state on disk

    /** Every regular file below {@code dir}, relative, sorted; RocksDB's own files left out. */
    static TreeSet<String> files(Path dir) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        if (!Files.exists(dir)) {
            return out;
        }
        try (Stream<Path> w = Files.walk(dir)) {
            w.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString())
                    .filter(p -> !p.startsWith(".coffer/index/"))
                    .forEach(out::add);
        }
        return out;
    }

    /** The chunk files of the datastore. */
    TreeSet<String> chunkFiles() throws IOException {
        return files(datastoreDir.resolve("chunks"));
    }

    /** What upload temp files and session staging directories hold now. */
    TreeSet<String> tmpFiles() throws IOException {
        return files(service().datastore().tmpDir());
    }

    /** The published restore points, as the catalog reads them from disk. */
    List<String> snapshots() throws IOException {
        var c = service().catalog();
        List<String> out = new java.util.ArrayList<>();
        for (String ns : Stream.concat(Stream.of((String) null), c.namespaces().stream()).toList()) {
            for (var g : c.groups(ns)) {
                c.snapshots(g).forEach(s -> out.add(s.path()));
            }
        }
        return out;
    }

    // ---- tokens

    /** Creates a token through the API with one grant; returns {id, token}. */
    String[] token(String name, String role, String datastore, String ns) throws Exception {
        Map<String, Object> grant = new LinkedHashMap<>();
        grant.put("datastore", datastore);
        grant.put("ns", ns);
        grant.put("role", role);
        Resp r = post("/api/v1/tokens", admin, Map.of("name", name, "grants", List.of(grant)));
        assertThat(r.status()).as("create token %s: %s", name, r).isEqualTo(201);
        return new String[] {r.json().get("id").asText(), r.json().get("token").asText()};
    }

    /** The value of a counter in {@code /metrics}. */
    long metric(String name) throws Exception {
        Resp r = get("/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        for (String line : r.text().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Long.parseLong(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError("no metric " + name + " in " + r.text());
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
