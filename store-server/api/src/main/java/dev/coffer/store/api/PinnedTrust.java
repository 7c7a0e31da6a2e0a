package dev.coffer.store.api;

import dev.coffer.chunker.Names;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import java.security.KeyStore;
import java.security.Provider;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.TrustManagerFactorySpi;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly one server certificate: the one whose SHA-256 fingerprint (over its DER
 * encoding) was pinned by the operator, normally through {@code COFFER_FINGERPRINT}.
 *
 * <p>Why pinning and not a CA: a Coffer store generates its own self-signed certificate on first
 * start, so there is no CA to ask, and a backup client must not fall back to "trust anything"
 * just because the certificate is self-signed. The fingerprint the store prints at start is the
 * whole trust decision. CA chains, validity dates and host names are deliberately not checked:
 * the pin already names one certificate, so a chain adds nothing, and hostname checks would only
 * break connections made by IP address or through a tunnel.
 *
 * <p>This extends {@link X509ExtendedTrustManager} (not just {@code X509TrustManager}) so the
 * JDK does not wrap it with its own hostname and algorithm-constraint checks; the OpenSSL engine
 * calls it the same way. A mismatch throws a {@link CertificateException} whose message says
 * what to do, and it ends up in the cause chain of the failed connection.
 */
public final class PinnedTrust extends X509ExtendedTrustManager {

    /** The environment variable clients read the pin from. */
    public static final String ENV = "COFFER_FINGERPRINT";

    private static final Pattern COLON_FORM = Pattern.compile("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){31}");
    private static final Pattern PLAIN_FORM = Pattern.compile("(?i)[0-9a-f]{64}");
    private static final HexFormat COLON_HEX = HexFormat.ofDelimiter(":");

    private final byte[] pinned;
    private final String source;

    /**
     * Pins the given fingerprint, naming {@link #ENV} as where it came from.
     *
     * @param fingerprint 32 colon-separated hex pairs or 64 plain hex characters, any case
     * @throws IllegalArgumentException if it is neither
     */
    public PinnedTrust(String fingerprint) {
        this(fingerprint, ENV);
    }

    /**
     * Pins the given fingerprint; {@code source} names where the operator set it (an
     * environment variable, a config key, a flag) so the mismatch message points there.
     *
     * @throws IllegalArgumentException if the fingerprint is malformed
     */
    public PinnedTrust(String fingerprint, String source) {
        this.pinned = parse(fingerprint, source);
        this.source = Objects.requireNonNull(source, "source");
    }

    /** The pinned fingerprint in the canonical form: lowercase hex pairs joined by ':'. */
    public String pinned() {
        return COLON_HEX.formatHex(pinned);
    }

    /** Where the pin came from, as named in error messages. */
    public String source() {
        return source;
    }

    /**
     * The fingerprint of a certificate as Coffer shows it: SHA-256 of the DER encoding, lowercase
     * hex pairs joined by ':' (the same shape as a key's fingerprint).
     *
     * @throws CertificateEncodingException if the certificate cannot be encoded
     */
    public static String fingerprint(X509Certificate certificate) throws CertificateEncodingException {
        return COLON_HEX.formatHex(sha256(certificate.getEncoded()));
    }

    /**
     * Normalises a fingerprint the operator typed (colon form or plain hex, any case) to the
     * canonical colon form.
     *
     * @throws IllegalArgumentException if it is neither form
     */
    public static String normalize(String fingerprint) {
        return COLON_HEX.formatHex(parse(fingerprint, "fingerprint"));
    }

    /** True if {@code certificate} is the pinned one. */
    public boolean matches(X509Certificate certificate) throws CertificateEncodingException {
        return MessageDigest.isEqual(pinned, sha256(certificate.getEncoded()));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a pinned server fingerprint cannot authenticate TLS clients: Coffer clients authenticate with tokens");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    /**
     * This trust manager as a {@link TrustManagerFactory}, for APIs that take a factory (Vert.x's
     * {@code TrustOptions.wrap(TrustManagerFactory)}, Netty's {@code SslContextBuilder}).
     * {@code init} is ignored: the pin is the whole configuration.
     */
    public TrustManagerFactory factory() {
        return new Factory(this);
    }

    @Override
    public String toString() {
        return "PinnedTrust[" + pinned() + " from " + source + "]";
    }

    private static final class Factory extends TrustManagerFactory {
        private static final Provider PROVIDER = new Provider("coffer-pinned", "1", "Coffer's pinned-fingerprint trust") {
            private static final long serialVersionUID = 1L;
        };

        Factory(PinnedTrust trust) {
            super(new TrustManagerFactorySpi() {
                @Override
                protected void engineInit(KeyStore ks) {}

                @Override
                protected void engineInit(ManagerFactoryParameters spec) {}

                @Override
                protected TrustManager[] engineGetTrustManagers() {
                    return new TrustManager[] {trust};
                }
            }, PROVIDER, "coffer-pinned");
        }
    }

    private void check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the server sent no certificate: refusing to connect");
        }
        // only the server's own (leaf) certificate counts: the pin names it, intermediates are noise
        X509Certificate leaf = chain[0];
        if (!matches(leaf)) {
            throw new CertificateException("server certificate fingerprint is " + fingerprint(leaf)
                    + ", but " + source + " pins " + pinned() + ": refusing to connect"
                    + " (if the server's certificate was replaced on purpose, update " + source + ")");
        }
    }

    private static byte[] parse(String fingerprint, String source) {
        if (fingerprint != null) {
            String s = fingerprint.strip();
            if (COLON_FORM.matcher(s).matches()) {
                return HexFormat.of().parseHex(s.replace(":", "").toLowerCase(Locale.ROOT));
            }
            if (PLAIN_FORM.matcher(s).matches()) {
                return HexFormat.of().parseHex(s.toLowerCase(Locale.ROOT));
            }
        }
        throw new IllegalArgumentException(source + " must be a SHA-256 certificate fingerprint: 32 hex pairs joined by ':'"
                + " (as `coffer server` prints it) or 64 hex characters; got '" + Names.printable(fingerprint) + "'");
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
