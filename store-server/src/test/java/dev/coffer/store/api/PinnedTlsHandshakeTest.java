package dev.coffer.store.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.security.ServerCertificate;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLEngineOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real TLS over loopback: a Vert.x server with the generated certificate, a Vert.x client set up
 * by {@link PinnedTls}, on the JDK engine and (when netty-tcnative loads) the OpenSSL engine.
 */
final class PinnedTlsHandshakeTest {

    @TempDir
    static Path dir;

    static Vertx vertx;
    static ServerCertificate cert;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        cert = ServerCertificate.loadOrCreate(dir, "handshake-test", List.of(), Clock.systemUTC());
    }

    @AfterAll
    static void stop() throws Exception {
        if (vertx != null) {
            get(vertx.close());
        }
    }

    static Stream<String> engines() {
        return OpenSSLEngineOptions.isAvailable() ? Stream.of("jdk", "openssl") : Stream.of("jdk");
    }

    private static SSLEngineOptions engine(String name) {
        return name.equals("openssl") ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions();
    }

    private static HttpServer server(String engine, String host) throws Exception {
        HttpServerOptions options = new HttpServerOptions()
                .setHost(host)
                .setPort(0)
                .setSsl(true)
                .setSslEngineOptions(engine(engine))
                .setKeyCertOptions(new PemKeyCertOptions()
                        .setCertValue(Buffer.buffer(cert.certificatePem()))
                        .setKeyValue(Buffer.buffer(cert.keyPem())));
        return get(vertx.createHttpServer(options).requestHandler(req -> req.response().end("pinned ok")).listen());
    }

    /** GET / and return "status body". */
    private static String get(String engine, String pin, String host, int port) throws Exception {
        HttpClient client = vertx.createHttpClient(PinnedTls.configure(new HttpClientOptions(), new PinnedTrust(pin), engine(engine)));
        try {
            return get(client.request(HttpMethod.GET, port, host, "/")
                    .compose(req -> req.send())
                    .compose(resp -> resp.body().map(body -> resp.statusCode() + " " + body)));
        } finally {
            get(client.close());
        }
    }

    private static <T> T get(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "{0} engine")
    @MethodSource("engines")
    void shouldConnectWhenTheFingerprintMatches(String engine) throws Exception {
        HttpServer server = server(engine, "127.0.0.1");
        try {
            assertThat(get(engine, cert.fingerprint(), "127.0.0.1", server.actualPort())).isEqualTo("200 pinned ok");
            assertThat(get(engine, cert.fingerprint().replace(":", "").toUpperCase(), "localhost", server.actualPort()))
                    .isEqualTo("200 pinned ok");
        } finally {
            get(server.close());
        }
    }

    @ParameterizedTest(name = "{0} engine")
    @MethodSource("engines")
    void shouldRefuseWithTheOperatorMessageWhenTheFingerprintDiffers(String engine) throws Exception {
        String wrong = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
        HttpServer server = server(engine, "127.0.0.1");
        try {
            assertThatThrownBy(() -> get(engine, wrong, "127.0.0.1", server.actualPort()))
                    .isInstanceOf(ExecutionException.class)
                    .satisfies(e -> assertThat(causeMessages(e)).anySatisfy(m -> assertThat(m).isEqualTo(
                            "server certificate fingerprint is " + cert.fingerprint() + ", but COFFER_FINGERPRINT pins " + wrong
                                    + ": refusing to connect (if the server's certificate was replaced on purpose, update COFFER_FINGERPRINT)")));
        } finally {
            get(server.close());
        }
    }

    @Test
    void shouldNotCheckTheHostNameBecauseThePinReplacesIt() throws Exception {
        // 127.0.0.2 is loopback on Linux but not among the certificate's names
        assertThat(cert.subjectAltNames()).doesNotContain("127.0.0.2");
        HttpServer server = server("jdk", "127.0.0.2");
        try {
            assertThat(get("jdk", cert.fingerprint(), "127.0.0.2", server.actualPort())).isEqualTo("200 pinned ok");
        } finally {
            get(server.close());
        }
    }

    @Test
    void shouldPreferOpenSslAndHttp11() {
        HttpClientOptions o = PinnedTls.clientOptions(new PinnedTrust(cert.fingerprint()));
        assertThat(o.isSsl()).isTrue();
        assertThat(o.isVerifyHost()).isFalse();
        assertThat(o.isTrustAll()).isFalse();
        assertThat(o.getProtocolVersion()).isEqualTo(io.vertx.core.http.HttpVersion.HTTP_1_1);
        assertThat(o.getSslEngineOptions()).isInstanceOf(OpenSSLEngineOptions.isAvailable() ? OpenSSLEngineOptions.class : JdkSSLEngineOptions.class);
        assertThat(PinnedTls.engineName()).isEqualTo(OpenSSLEngineOptions.isAvailable() ? "openssl" : "jdk");
    }

    private static List<String> causeMessages(Throwable e) {
        List<String> messages = new ArrayList<>();
        for (Throwable t = e; t != null && messages.size() < 20; t = t.getCause()) {
            messages.add(String.valueOf(t.getMessage()));
            for (Throwable s : t.getSuppressed()) {
                messages.add(String.valueOf(s.getMessage()));
            }
        }
        return messages;
    }
}
