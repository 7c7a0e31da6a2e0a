package dev.coffer.store.api;

import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.net.TrustOptions;
import java.util.Objects;

/**
 * Vert.x client options for a TLS connection to a Coffer store whose certificate is pinned.
 *
 * <p>Why these settings (DESIGN.md, "HTTP API and dashboard"): 4 MiB uploads over loopback HTTPS
 * measured 1.4–1.5 GB/s with HTTP/1.1 on the OpenSSL engine against 0.65–0.88 GB/s with the
 * JDK's TLS, and HTTP/2 was slower than HTTP/1.1 on either engine. So the OpenSSL engine is used
 * whenever netty-tcnative loads, the JDK's otherwise, and the protocol is HTTP/1.1 without ALPN.
 * Trust is {@link PinnedTrust} alone: no CA, no hostname check (the pin names the certificate).
 */
public final class PinnedTls {

    private PinnedTls() {}

    /**
     * New client options for a pinned TLS connection with the fastest engine available.
     *
     * @param trust the pinned fingerprint
     */
    public static HttpClientOptions clientOptions(PinnedTrust trust) {
        return configure(new HttpClientOptions(), trust, engine());
    }

    /**
     * Sets TLS, pinned trust, no hostname verification, the given engine and HTTP/1.1 on
     * {@code options}, leaving every other setting (pool size, timeouts) as the caller chose.
     *
     * @param options the options to change and return
     * @param trust the pinned fingerprint
     * @param engine the TLS engine, normally {@link #engine()}
     * @return {@code options}
     */
    public static HttpClientOptions configure(HttpClientOptions options, PinnedTrust trust, SSLEngineOptions engine) {
        Objects.requireNonNull(trust, "trust");
        Objects.requireNonNull(engine, "engine");
        return options
                .setSsl(true)
                .setTrustAll(false)
                // wrap(TrustManagerFactory), not wrap(TrustManager): in Vert.x 5.1.6 the latter goes
                // through io.vertx.core.net.TrustManagerFactoryWrapper, which needs slf4j-api on the
                // class path (NoClassDefFoundError: org/slf4j/LoggerFactory) although Vert.x does not
                .setTrustOptions(TrustOptions.wrap(trust.factory()))
                // the pin replaces hostname checks: clients may connect by IP, alias or tunnel
                .setVerifyHost(false)
                .setSslEngineOptions(engine)
                .setProtocolVersion(HttpVersion.HTTP_1_1)
                .setUseAlpn(false);
    }

    /**
     * The TLS engine both ends should use: OpenSSL (BoringSSL from netty-tcnative) when its
     * native library loads on this machine, else the JDK's. The server uses it too.
     */
    public static SSLEngineOptions engine() {
        return OpenSSLEngineOptions.isAvailable() ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions();
    }

    /** A short name of the engine {@link #engine()} picks, for logs and status output. */
    public static String engineName() {
        return OpenSSLEngineOptions.isAvailable() ? "openssl" : "jdk";
    }
}
