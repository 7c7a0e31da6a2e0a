package dev.coffer.store.api;

import dev.coffer.chunker.Digest;
import dev.coffer.store.api.ApiTypes.ApiError;
import dev.coffer.store.api.ApiTypes.BeginBackupRequest;
import dev.coffer.store.api.ApiTypes.BeginBackupResponse;
import dev.coffer.store.api.ApiTypes.FinishResponse;
import dev.coffer.store.api.ApiTypes.KnownRequest;
import dev.coffer.store.api.ApiTypes.KnownResponse;
import dev.coffer.store.api.ApiTypes.OpenReaderRequest;
import dev.coffer.store.api.ApiTypes.OpenReaderResponse;
import dev.coffer.store.api.ApiTypes.SnapshotInfo;
import dev.coffer.store.api.ApiTypes.UploadResult;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A synchronous client of one datastore, for the CLI and the agent's plain-Java pipeline.
 *
 * <p>Underneath is a Vert.x HTTP client on its own small event loop, HTTP/1.1 over pinned TLS on
 * the OpenSSL engine when present (DESIGN.md's fastest measured transport); each call blocks its
 * caller until the answer arrives, and calls from several threads run in parallel over a pool of
 * connections, which is how the pipeline keeps several uploads in flight. Thread-safe.
 */
public final class StoreClient implements AutoCloseable {

    private static final long TIMEOUT_S = 300;

    private final StoreEndpoint endpoint;
    private final Vertx vertx;
    private final HttpClientAgent http;
    private final String dsPath;

    private StoreClient(StoreEndpoint endpoint, int connections) {
        this.endpoint = endpoint;
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
        HttpClientOptions options = "https".equals(endpoint.baseUri().getScheme())
                ? PinnedTls.clientOptions(new PinnedTrust(endpoint.fingerprint(), PinnedTrust.ENV))
                : new HttpClientOptions();
        options.setDefaultHost(endpoint.baseUri().getHost()).setDefaultPort(endpoint.baseUri().getPort())
                .setConnectTimeout(10_000).setIdleTimeout(120).setKeepAlive(true);
        this.http = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(connections));
        this.dsPath = "/api/v1/datastores/" + endpoint.datastore();
    }

    /** A client with up to {@code connections} requests in flight. */
    public static StoreClient connect(StoreEndpoint endpoint, int connections) {
        return new StoreClient(endpoint, connections);
    }

    public StoreEndpoint endpoint() {
        return endpoint;
    }

    // ---- listing and reading

    public List<SnapshotInfo> snapshots(String ns, String group) throws IOException {
        String q = query("ns", ns, "group", group);
        return List.of(Wire.mapper().convertValue(json(HttpMethod.GET, dsPath + "/snapshots" + q, null), SnapshotInfo[].class));
    }

    public byte[] snapshotFile(String snapshot, String name) throws IOException {
        return bytes(HttpMethod.GET, dsPath + "/snapshot/files/" + name + query("snapshot", snapshot), null);
    }

    /**
     * Streams a file of a restore point (an index can be hundreds of MiB) into {@code to},
     * replacing it, without holding it in memory.
     */
    public void downloadFile(String snapshot, String name, Path to) throws IOException {
        RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET)
                .setURI(dsPath + "/snapshot/files/" + name + query("snapshot", snapshot))
                .putHeader("Authorization", "Bearer " + endpoint.token());
        // the file is opened first: a small body can end before an open started after the answer completes
        Future<Void> f = vertx.fileSystem().open(to.toString(), new OpenOptions().setWrite(true).setCreate(true).setTruncateExisting(true))
                .compose(af -> http.request(ro).compose(req -> req.send()).compose(resp -> resp.statusCode() / 100 != 2
                        ? check(resp, ro).<Void>mapEmpty().eventually(af::close)
                        : resp.pipeTo(af)));
        await(f, ro);
    }

    public byte[] manifest(String snapshot) throws IOException {
        return bytes(HttpMethod.GET, dsPath + "/snapshot/manifest" + query("snapshot", snapshot), null);
    }

    public OpenReaderResponse openReader(String snapshot) throws IOException {
        return parse(bytes(HttpMethod.POST, dsPath + "/readers", Wire.toBytes(new OpenReaderRequest(snapshot))), OpenReaderResponse.class);
    }

    public byte[] readChunk(String reader, Digest digest) throws IOException {
        return bytes(HttpMethod.GET, dsPath + "/readers/" + reader + "/chunks/" + digest.hex(), null);
    }

    /**
     * Reads a chunk's blob into {@code into[0, n)} and returns {@code n}: a restore receives blob
     * after blob into one reused buffer instead of a fresh 4 MiB array each.
     *
     * @throws IOException also when the blob is longer than {@code into}
     */
    public int readChunkInto(String reader, Digest digest, byte[] into) throws IOException {
        RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setURI(dsPath + "/readers/" + reader + "/chunks/" + digest.hex())
                .putHeader("Authorization", "Bearer " + endpoint.token());
        Future<Integer> f = http.request(ro).compose(req -> req.send()
                .compose(resp -> resp.statusCode() / 100 == 2 ? receive(resp, into, "chunk " + digest.hex()) : check(resp, ro).map(b -> 0)));
        return await(f, ro);
    }

    public void readerHeartbeat(String reader) throws IOException {
        bytes(HttpMethod.POST, dsPath + "/readers/" + reader + "/heartbeat", new byte[0]);
    }

    public void closeReader(String reader) throws IOException {
        bytes(HttpMethod.DELETE, dsPath + "/readers/" + reader, null);
    }

    // ---- backup sessions

    public BeginBackupResponse beginBackup(BeginBackupRequest request) throws IOException {
        return parse(bytes(HttpMethod.POST, dsPath + "/backups", Wire.toBytes(request)), BeginBackupResponse.class);
    }

    public byte[] baseFile(String session, String name) throws IOException {
        return bytes(HttpMethod.GET, dsPath + "/backups/" + session + "/base/" + name, null);
    }

    public UploadResult uploadChunk(String session, Digest digest, int plainLength, byte[] blob) throws IOException {
        return uploadChunk(session, digest, plainLength, blob, blob.length);
    }

    /**
     * Uploads {@code blob[0, blobLength)}: a backup encodes into reused buffers longer than the blob.
     * A store whose upload memory is spent answers 503 {@code busy} before reading the body; the
     * upload is then sent again after a pause growing from 50 ms to 1 s, for up to {@value #BUSY_RETRY_S} s.
     */
    public UploadResult uploadChunk(String session, Digest digest, int plainLength, byte[] blob, int blobLength) throws IOException {
        String uri = dsPath + "/backups/" + session + "/chunks/" + digest.hex() + "?size=" + plainLength;
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(BUSY_RETRY_S);
        long pauseMs = 50;
        while (true) {
            try {
                return parse(bytes(HttpMethod.PUT, uri, blob, blobLength), UploadResult.class);
            } catch (StoreClientException e) {
                if (e.status() != 503 || !"busy".equals(e.code()) || System.nanoTime() > giveUp) {
                    throw e;
                }
            }
            try {
                Thread.sleep(pauseMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreClientException("interrupted while waiting for a busy store", e);
            }
            pauseMs = Math.min(1000, pauseMs * 2);
        }
    }

    /** How long an upload is retried while the store answers busy (the session's heartbeat keeps it alive meanwhile). */
    private static final long BUSY_RETRY_S = 600;

    public List<Boolean> known(String session, List<Digest> digests) throws IOException {
        KnownRequest req = new KnownRequest(digests.stream().map(Digest::hex).toList());
        return parse(bytes(HttpMethod.POST, dsPath + "/backups/" + session + "/known", Wire.toBytes(req)), KnownResponse.class).known();
    }

    /** Uploads an index or config file, streamed from disk. */
    public void uploadFile(String session, String name, Path file) throws IOException {
        long len = Files.size(file);
        RequestOptions ro = new RequestOptions().setMethod(HttpMethod.PUT).setURI(dsPath + "/backups/" + session + "/files/" + name)
                .putHeader("Authorization", "Bearer " + endpoint.token()).putHeader("Content-Length", Long.toString(len));
        Future<Buffer> f = http.request(ro).compose(req -> vertx.fileSystem().open(file.toString(), new OpenOptions().setRead(true))
                .compose(af -> req.send(af).compose(resp -> check(resp, ro)).eventually(af::close)));
        await(f, ro);
    }

    public void uploadFile(String session, String name, byte[] bytes) throws IOException {
        bytes(HttpMethod.PUT, dsPath + "/backups/" + session + "/files/" + name, bytes);
    }

    public String finish(String session, byte[] manifest) throws IOException {
        return parse(bytes(HttpMethod.POST, dsPath + "/backups/" + session + "/finish", manifest), FinishResponse.class).snapshot();
    }

    public void heartbeat(String session) throws IOException {
        bytes(HttpMethod.POST, dsPath + "/backups/" + session + "/heartbeat", new byte[0]);
    }

    public void abort(String session) throws IOException {
        bytes(HttpMethod.DELETE, dsPath + "/backups/" + session, null);
    }

    // ---- plumbing

    /** Any API call: the body of a 2xx answer, or a {@link StoreClientException} with the server's reason. */
    public byte[] bytes(HttpMethod method, String uri, byte[] body) throws IOException {
        return bytes(method, uri, body, body == null ? 0 : body.length);
    }

    private byte[] bytes(HttpMethod method, String uri, byte[] body, int bodyLength) throws IOException {
        RequestOptions ro = new RequestOptions().setMethod(method).setURI(uri)
                .putHeader("Authorization", "Bearer " + endpoint.token());
        // the body is wrapped, not copied (a chunk blob is MiBs): the caller waits for the answer, so the array cannot change while it is sent
        Future<byte[]> f = http.request(ro).compose(req -> (body == null ? req.send() : req.send(BufferInternal.buffer(Unpooled.wrappedBuffer(body, 0, bodyLength))))
                .compose(resp -> resp.statusCode() / 100 == 2 ? receive(resp) : check(resp, ro).map(Buffer::getBytes)));
        return await(f, ro);
    }

    /**
     * A 2xx body straight into an array of its Content-Length: chunks are MiBs, and aggregating
     * them in a growing buffer and copying that out again made most of a restore's garbage.
     */
    private static Future<byte[]> receive(HttpClientResponse resp) {
        long n = contentLength(resp);
        if (n < 0 || n > Integer.MAX_VALUE - 16) {
            return resp.body().map(Buffer::getBytes);
        }
        byte[] out = new byte[(int) n];
        return receive(resp, out, "the answer").map(length -> out);
    }

    private static long contentLength(HttpClientResponse resp) {
        try {
            String length = resp.getHeader(HttpHeaders.CONTENT_LENGTH);
            return length == null ? -1 : Long.parseLong(length);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A 2xx body of a known Content-Length into {@code out[0, length)}; fails, naming {@code what}, when it does not fit. */
    private static Future<Integer> receive(HttpClientResponse resp, byte[] out, String what) {
        long n = contentLength(resp);
        if (n < 0 || n > out.length) {
            resp.request().reset();
            return Future.failedFuture(new IOException(n < 0 ? "the store sent " + what + " without a Content-Length"
                    : "the store sent " + what + " as " + n + " bytes, more than the longest blob of this datastore (" + out.length + ")"));
        }
        int[] at = {0};
        int length = (int) n;
        Promise<Integer> p = Promise.promise();
        resp.exceptionHandler(p::tryFail);
        resp.handler(b -> {
            int len = b.length();
            if (at[0] + len > length) {
                p.tryFail(new IOException("the store sent more than the Content-Length of " + length + " bytes"));
                return;
            }
            b.getBytes(0, len, out, at[0]);
            at[0] += len;
        });
        resp.endHandler(v -> {
            if (at[0] == length) {
                p.tryComplete(length);
            } else {
                p.tryFail(new IOException("the store sent " + at[0] + " bytes of a Content-Length of " + length));
            }
        });
        return p.future();
    }

    private com.fasterxml.jackson.databind.JsonNode json(HttpMethod method, String uri, byte[] body) throws IOException {
        return Wire.mapper().readTree(bytes(method, uri, body));
    }

    private static Future<Buffer> check(HttpClientResponse resp, RequestOptions ro) {
        return resp.body().compose(b -> {
            if (resp.statusCode() / 100 == 2) {
                return Future.succeededFuture(b);
            }
            String code = "http-" + resp.statusCode();
            String message = b.toString(StandardCharsets.UTF_8);
            try {
                ApiError e = Wire.mapper().readValue(b.getBytes(), ApiError.class);
                code = e.error();
                message = e.message();
            } catch (IOException | RuntimeException notJson) {
                // keep the raw body as the message
            }
            return Future.failedFuture(new StoreClientException(resp.statusCode(), code, "store answered " + resp.statusCode()
                    + " (" + code + ") to " + ro.getMethod() + " " + ro.getURI().replaceAll("\\?.*", "") + ": " + message));
        });
    }

    private <T> T await(Future<T> f, RequestOptions ro) throws IOException {
        try {
            return f.toCompletionStage().toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof StoreClientException s) {
                throw s;
            }
            throw new StoreClientException("cannot reach the store at " + endpoint.baseUri() + " (" + ro.getMethod() + " "
                    + ro.getURI().replaceAll("\\?.*", "") + "): " + describe(c), c);
        } catch (TimeoutException e) {
            throw new StoreClientException("the store at " + endpoint.baseUri() + " did not answer within " + TIMEOUT_S + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreClientException("interrupted while waiting for the store", e);
        }
    }

    private static String describe(Throwable t) {
        StringBuilder b = new StringBuilder(String.valueOf(t.getMessage()));
        for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
            if (c.getMessage() != null && !b.toString().contains(c.getMessage())) {
                b.append(": ").append(c.getMessage());
            }
        }
        return b.toString();
    }

    private static <T> T parse(byte[] body, Class<T> type) {
        return Wire.parse(body, type);
    }

    private static String query(String... kv) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i + 1] != null) {
                b.append(b.isEmpty() ? '?' : '&').append(kv[i]).append('=').append(URLEncoder.encode(kv[i + 1], StandardCharsets.UTF_8));
            }
        }
        return b.toString();
    }

    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // closing is best effort
        }
    }
}
