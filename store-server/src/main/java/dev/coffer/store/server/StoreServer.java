package dev.coffer.store.server;

import dev.coffer.store.api.ApiTypes.GrantInfo;
import dev.coffer.store.api.ApiTypes.TokenCreated;
import dev.coffer.store.api.ApiTypes.TokenInfo;
import dev.coffer.store.api.PinnedTls;
import dev.coffer.store.datastore.DatastoreOptions;
import dev.coffer.store.datastore.DatastoreService;
import dev.coffer.store.http.TokenAdmin;
import dev.coffer.store.http.HttpApi;
import dev.coffer.store.security.Grant;
import dev.coffer.store.security.Role;
import dev.coffer.store.security.ServerCertificate;
import dev.coffer.store.security.Token;
import dev.coffer.store.security.TokenStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A running store: its datastores, tokens, TLS certificate and the HTTP server, composed.
 *
 * <p>First start creates what is missing (datastores, an admin token shown once, a certificate);
 * later starts reuse them. TLS is the default; plain HTTP is refused unless explicitly asked for,
 * and then only on a loopback address (tests and a single-host setup behind ssh).
 */
public final class StoreServer implements AutoCloseable {

    /** One datastore to serve: its directory and options. */
    public record DatastoreSpec(Path dir, DatastoreOptions options) {}

    /**
     * How to run.
     *
     * @param host the address to listen on
     * @param port the port (0: any free port)
     * @param plainHttp serve HTTP instead of HTTPS (only allowed on loopback)
     * @param stateDir where tokens and the certificate live
     * @param datastores name → spec, in order; the first is the default datastore
     * @param lease how long an idle session lives
     * @param extraNames extra DNS names or IPs for the generated certificate
     * @param tlsCert an operator-supplied certificate (PEM), or null to use the generated one
     * @param tlsKey its private key (PEM), or null
     */
    /** @param uploadBudget bytes of chunk uploads held in memory at once (0: a quarter of the heap) */
    public record Options(String host, int port, boolean plainHttp, Path stateDir, Map<String, DatastoreSpec> datastores,
            Duration lease, List<String> extraNames, Path tlsCert, Path tlsKey, long uploadBudget) {

        /** Options with the default upload budget. */
        public Options(String host, int port, boolean plainHttp, Path stateDir, Map<String, DatastoreSpec> datastores,
                Duration lease, List<String> extraNames, Path tlsCert, Path tlsKey) {
            this(host, port, plainHttp, stateDir, datastores, lease, extraNames, tlsCert, tlsKey, 0);
        }

        /** Options with the generated certificate. */
        public Options(String host, int port, boolean plainHttp, Path stateDir, Map<String, DatastoreSpec> datastores,
                Duration lease, List<String> extraNames) {
            this(host, port, plainHttp, stateDir, datastores, lease, extraNames, null, null);
        }

        /** These options with another upload budget (tests use a small one). */
        public Options withUploadBudget(long bytes) {
            return new Options(host, port, plainHttp, stateDir, datastores, lease, extraNames, tlsCert, tlsKey, bytes);
        }
    }

    private final Options options;
    private final Map<String, DatastoreService> datastores;
    private final TokenStore tokens;
    private final ServerCertificate certificate;
    private final String bootstrapToken;
    private final Vertx vertx;
    private final HttpApi api;
    private final HttpServer http;
    private final long expiryTimer;

    private StoreServer(Options options, Map<String, DatastoreService> datastores, TokenStore tokens, ServerCertificate certificate,
            String bootstrapToken, Vertx vertx, HttpApi api, HttpServer http, long expiryTimer) {
        this.options = options;
        this.datastores = datastores;
        this.tokens = tokens;
        this.certificate = certificate;
        this.bootstrapToken = bootstrapToken;
        this.vertx = vertx;
        this.api = api;
        this.http = http;
        this.expiryTimer = expiryTimer;
    }

    /**
     * Opens everything and listens.
     *
     * @throws IOException naming what failed: a datastore, the state directory, the address
     */
    public static StoreServer start(Options o) throws IOException {
        if (o.datastores().isEmpty()) {
            throw new IOException("no datastore configured: pass --datastore [NAME=]DIR");
        }
        if (o.plainHttp() && !InetAddress.getByName(o.host()).isLoopbackAddress()) {
            throw new IOException("plain HTTP is allowed only on a loopback address, not on " + o.host()
                    + ": tokens and data would cross the network unencrypted");
        }
        Files.createDirectories(o.stateDir());
        Map<String, DatastoreService> open = new LinkedHashMap<>();
        Vertx vertx = null;
        HttpApi api = null;
        try {
            for (var e : o.datastores().entrySet()) {
                open.put(e.getKey(), DatastoreService.open(e.getKey(), e.getValue().dir(), e.getValue().options(), o.lease()));
            }
            TokenStore tokens = TokenStore.open(o.stateDir());
            String bootstrap = tokens.ensureAdmin().orElse(null);
            ServerCertificate cert = o.plainHttp() ? null
                    : o.tlsCert() != null ? ServerCertificate.load(o.tlsCert(), o.tlsKey())
                    : ServerCertificate.loadOrCreate(o.stateDir(), o.extraNames());
            vertx = Vertx.vertx();
            api = new HttpApi(vertx, open, bearer -> tokens.authenticate(bearer).map(PrincipalAccess::new),
                    new TokenAdminImpl(tokens), Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), o.uploadBudget());
            HttpServerOptions hso = new HttpServerOptions().setHost(o.host()).setPort(o.port())
                    .setIdleTimeout(300).setCompressionSupported(false);
            if (cert != null) {
                // HTTP/2 for clients that ask (browsers, curl), with windows big enough for 4 MiB chunks:
                // Vert.x's default 64 KiB windows ran uploads at ~230 MB/s here, 32 MiB stream and 128 MiB
                // connection windows at ~850 MB/s (DESIGN.md); the stream cap bounds a client's parallelism.
                hso.setUseAlpn(true)
                        .setInitialSettings(new Http2Settings().setInitialWindowSize(32 << 20).setMaxConcurrentStreams(64))
                        .setHttp2ConnectionWindowSize(128 << 20);
                hso.setSsl(true).setSslEngineOptions(PinnedTls.engine())
                        .setKeyCertOptions(new PemKeyCertOptions().setCertValue(Buffer.buffer(cert.certificatePem()))
                                .setKeyValue(Buffer.buffer(cert.keyPem())));
            }
            HttpServer http = vertx.createHttpServer(hso).requestHandler(api.router()).listen()
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            Vertx v = vertx;
            // check often enough that a session outlives its lease by at most a tenth of it (1 s at least)
            long every = Math.max(1_000, Math.min(10_000, o.lease().toMillis() / 10));
            long timer = vertx.setPeriodic(every, id -> v.executeBlocking(() -> {
                for (DatastoreService ds : open.values()) {
                    ds.expireIdle();
                }
                return null;
            }, false));
            return new StoreServer(o, open, tokens, cert, bootstrap, vertx, api, http, timer);
        } catch (Exception e) {
            if (api != null) {
                api.close();
            }
            if (vertx != null) {
                vertx.close();
            }
            for (DatastoreService ds : open.values()) {
                ds.close();
            }
            if (e instanceof IOException io) {
                throw io;
            }
            Throwable c = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IOException("cannot listen on " + o.host() + ":" + o.port() + ": " + c.getMessage(), c);
        }
    }

    /** The URL clients use: {@code https://host:port}. */
    public String url() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        if (host.equals("0.0.0.0") || host.equals("[::]")) {
            host = "127.0.0.1";
        }
        return (certificate == null ? "http" : "https") + "://" + host + ":" + http.actualPort();
    }

    public int port() {
        return http.actualPort();
    }

    /** The certificate fingerprint clients pin, or null for plain HTTP. */
    public String fingerprint() {
        return certificate == null ? null : certificate.fingerprint();
    }

    /** The admin token created by this start (the first), shown once; empty on later starts. */
    public Optional<String> bootstrapToken() {
        return Optional.ofNullable(bootstrapToken);
    }

    /** The name of the first (default) datastore. */
    public String defaultDatastore() {
        return datastores.keySet().iterator().next();
    }

    public Map<String, DatastoreService> datastores() {
        return datastores;
    }

    public TokenStore tokens() {
        return tokens;
    }

    @Override
    public void close() throws IOException {
        vertx.cancelTimer(expiryTimer);
        try {
            http.shutdown(Duration.ofSeconds(5)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // shutting down regardless
        }
        api.close();
        IOException first = null;
        for (DatastoreService ds : datastores.values()) {
            try {
                ds.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort
        }
        if (first != null) {
            throw first;
        }
    }

    /** Token administration for the API, over the token store. */
    private record TokenAdminImpl(TokenStore tokens) implements TokenAdmin {
        @Override
        public TokenCreated create(dev.coffer.store.api.ApiTypes.TokenCreateRequest request) throws IOException {
            if (request.name() == null || request.grants() == null || request.grants().isEmpty()) {
                throw new IllegalArgumentException("body is not a valid token request: 'name' and at least one grant are required");
            }
            List<Grant> grants = new ArrayList<>();
            for (GrantInfo g : request.grants()) {
                try {
                    grants.add(new Grant(g.datastore(), g.ns(), Role.of(g.role())));
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("body is not a valid token request: " + e.getMessage(), e);
                }
            }
            dev.coffer.store.security.CreatedToken created;
            try {
                created = tokens.create(request.name(), grants);
            } catch (IllegalArgumentException e) {
                // a bad token name: the client's mistake (400), not a server bug (500)
                throw new IllegalArgumentException("body is not a valid token request: " + e.getMessage(), e);
            }
            return new TokenCreated(created.token().id(), created.plaintext());
        }

        @Override
        public List<TokenInfo> list() {
            return tokens.list().stream().map(StoreServer::info).toList();
        }

        @Override
        public boolean revoke(String id) throws IOException {
            return tokens.revoke(id).isPresent();
        }
    }

    static TokenInfo info(Token t) {
        return new TokenInfo(t.id(), t.name(), t.grants().stream().map(g -> new GrantInfo(g.datastore(), g.ns(), g.role().wireName())).toList(),
                t.created().toString(), t.revoked() == null ? null : t.revoked().toString());
    }
}
