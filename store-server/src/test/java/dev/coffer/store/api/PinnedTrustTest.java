package dev.coffer.store.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.security.ServerCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pinning decision on its own, with real certificates and no network or Vert.x. */
final class PinnedTrustTest {

    @TempDir
    static Path dir;

    static X509Certificate server;
    static X509Certificate other;
    static String fp;
    static String otherFp;

    @BeforeAll
    static void certificates() throws Exception {
        ServerCertificate a = ServerCertificate.loadOrCreate(Files.createDirectory(dir.resolve("a")), "a", List.of(), Clock.systemUTC());
        ServerCertificate b = ServerCertificate.loadOrCreate(Files.createDirectory(dir.resolve("b")), "b", List.of(), Clock.systemUTC());
        server = a.certificate();
        other = b.certificate();
        fp = a.fingerprint();
        otherFp = b.fingerprint();
    }

    @Test
    void shouldAcceptThePinnedCertificateInEveryWrittenForm() {
        for (String pin : List.of(fp, fp.toUpperCase(Locale.ROOT), fp.replace(":", ""), fp.replace(":", "").toUpperCase(Locale.ROOT), " " + fp + "\n")) {
            PinnedTrust t = new PinnedTrust(pin);
            assertThat(t.pinned()).isEqualTo(fp);
            assertThatCode(() -> t.checkServerTrusted(new X509Certificate[] {server}, "ECDHE_ECDSA")).doesNotThrowAnyException();
        }
    }

    @Test
    void shouldRefuseAnyOtherCertificateWithAMessageAnOperatorCanActOn() {
        PinnedTrust t = new PinnedTrust(fp);
        assertThatThrownBy(() -> t.checkServerTrusted(new X509Certificate[] {other}, "ECDHE_ECDSA"))
                .isInstanceOf(CertificateException.class)
                .hasMessage("server certificate fingerprint is " + otherFp + ", but COFFER_FINGERPRINT pins " + fp
                        + ": refusing to connect (if the server's certificate was replaced on purpose, update COFFER_FINGERPRINT)");
        assertThatThrownBy(() -> new PinnedTrust(fp, "--fingerprint").checkServerTrusted(new X509Certificate[] {other}, "x", (javax.net.ssl.SSLEngine) null))
                .hasMessageContaining("but --fingerprint pins " + fp)
                .hasMessageEndingWith("update --fingerprint)");
    }

    @Test
    void shouldJudgeOnlyTheServersOwnCertificate() throws Exception {
        PinnedTrust t = new PinnedTrust(fp);
        t.checkServerTrusted(new X509Certificate[] {server, other}, "x");
        assertThatThrownBy(() -> t.checkServerTrusted(new X509Certificate[] {other, server}, "x")).isInstanceOf(CertificateException.class);
        assertThatThrownBy(() -> t.checkServerTrusted(new X509Certificate[0], "x")).hasMessageContaining("no certificate");
        assertThatThrownBy(() -> t.checkServerTrusted(null, "x")).isInstanceOf(CertificateException.class);
    }

    @Test
    void shouldNeverAuthenticateClients() {
        PinnedTrust t = new PinnedTrust(fp);
        assertThatThrownBy(() -> t.checkClientTrusted(new X509Certificate[] {server}, "x")).isInstanceOf(CertificateException.class);
        assertThat(t.getAcceptedIssuers()).isEmpty();
    }

    @Test
    void shouldServeItselfAsATrustManagerFactory() throws Exception {
        PinnedTrust t = new PinnedTrust(fp);
        javax.net.ssl.TrustManagerFactory f = t.factory();
        f.init((java.security.KeyStore) null); // ignored: the pin is the whole configuration
        assertThat(f.getTrustManagers()).containsExactly(t);
    }

    @Test
    void shouldRejectPinsThatAreNotAFingerprint() {
        for (String bad : List.of("", "abc", fp.substring(3), fp + ":00", fp.replace(":", "-"), fp.replace(':', ' '),
                fp.substring(0, fp.length() - 1) + "g", "sha256:" + fp.replace(":", ""))) {
            assertThatThrownBy(() -> new PinnedTrust(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("COFFER_FINGERPRINT must be a SHA-256 certificate fingerprint");
        }
        assertThatThrownBy(() -> new PinnedTrust(null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 'null'");
    }

    @Test
    void shouldNormalizeToTheFormTheServerPrints() throws Exception {
        assertThat(PinnedTrust.normalize(fp.replace(":", "").toUpperCase(Locale.ROOT))).isEqualTo(fp);
        assertThat(PinnedTrust.fingerprint(server)).isEqualTo(fp);
    }
}
