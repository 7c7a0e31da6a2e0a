package dev.coffer.store.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.chunker.FormatException;
import dev.coffer.store.api.PinnedTrust;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ServerCertificateTest {

    private static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    @TempDir
    Path dir;

    private ServerCertificate create(Path stateDir, List<String> extra) throws IOException {
        return ServerCertificate.loadOrCreate(stateDir, "pve1.example.org", extra, CLOCK);
    }

    @Test
    void shouldGenerateSelfSignedP256CertificateOnFirstStart() throws Exception {
        ServerCertificate c = create(dir, List.of("backup.example.org", "10.0.0.7", "[fd00::7]"));

        assertThat(c.created()).isTrue();
        var cert = c.certificate();
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=coffer-pve1.example.org");
        assertThat(cert.getIssuerX500Principal()).isEqualTo(cert.getSubjectX500Principal());
        cert.verify(cert.getPublicKey()); // self-signed
        assertThat(cert.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(((ECPublicKey) cert.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
        assertThat(cert.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(3650)));
        assertThat(cert.getNotBefore().toInstant()).isBefore(NOW);
        assertThat(cert.getBasicConstraints()).isEqualTo(-1); // not a CA
        assertThat(c.subjectAltNames()).containsExactly(
                "localhost", "127.0.0.1", "0:0:0:0:0:0:0:1", "pve1.example.org", "backup.example.org", "10.0.0.7", "fd00:0:0:0:0:0:0:7");
    }

    @Test
    void shouldWriteKeyWithMode0600AndPemTheServerCanRead() throws Exception {
        ServerCertificate c = create(dir, List.of());

        Path key = dir.resolve(ServerCertificate.KEY_FILE);
        Path crt = dir.resolve(ServerCertificate.CERT_FILE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----\n").endsWith("-----END PRIVATE KEY-----\n");
        assertThat(Files.readString(crt)).startsWith("-----BEGIN CERTIFICATE-----\n");
        assertThat(c.keyPem()).isEqualTo(Files.readAllBytes(key));
        assertThat(c.certificatePem()).isEqualTo(Files.readAllBytes(crt));
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("server.crt", "server.key");
        }
    }

    @Test
    void shouldPrintFingerprintAsSha256OfDerInColonHex() throws Exception {
        ServerCertificate c = create(dir, List.of());

        byte[] sha = MessageDigest.getInstance("SHA-256").digest(c.certificate().getEncoded());
        assertThat(c.fingerprint())
                .isEqualTo(HexFormat.ofDelimiter(":").formatHex(sha))
                .matches("[0-9a-f]{2}(:[0-9a-f]{2}){31}");
    }

    @Test
    void shouldLoadTheSameCertificateOnLaterStarts() throws Exception {
        ServerCertificate first = create(dir, List.of());
        byte[] crtBytes = Files.readAllBytes(dir.resolve("server.crt"));

        ServerCertificate again = ServerCertificate.loadOrCreate(dir, "other-host", List.of("new.example.org"), Clock.systemUTC());

        assertThat(again.created()).isFalse();
        assertThat(again.fingerprint()).isEqualTo(first.fingerprint());
        assertThat(again.certificate()).isEqualTo(first.certificate());
        assertThat(again.keyPem()).isEqualTo(first.keyPem());
        assertThat(Files.readAllBytes(dir.resolve("server.crt"))).isEqualTo(crtBytes);
    }

    @Test
    void shouldCreateStateDirectoryPrivately() throws Exception {
        Path state = dir.resolve("state/server");
        create(state, List.of());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rwx------");
    }

    @Test
    void shouldRejectKeyThatDoesNotBelongToTheCertificate() throws Exception {
        Path a = Files.createDirectory(dir.resolve("a"));
        Path b = Files.createDirectory(dir.resolve("b"));
        create(a, List.of());
        create(b, List.of());
        Files.copy(b.resolve("server.key"), a.resolve("server.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        assertThatThrownBy(() -> create(a, List.of()))
                .isInstanceOf(FormatException.class)
                .hasMessageContaining(a.resolve("server.key").toString())
                .hasMessageContaining("does not belong to the certificate in " + a.resolve("server.crt"));
    }

    @Test
    void shouldNameTheFileThatIsNotPem() throws Exception {
        create(dir, List.of());
        Files.writeString(dir.resolve("server.crt"), "garbage\n");
        assertThatThrownBy(() -> create(dir, List.of()))
                .isInstanceOf(FormatException.class)
                .hasMessageContaining(dir.resolve("server.crt").toString())
                .hasMessageContaining("CERTIFICATE");

        Files.writeString(dir.resolve("server.crt"), "-----BEGIN CERTIFICATE-----\n!!!notbase64\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> create(dir, List.of()))
                .isInstanceOf(FormatException.class)
                .hasMessageContaining(dir.resolve("server.crt").toString());
    }

    @Test
    void shouldNameTheFileThatCannotBeRead() throws Exception {
        Path crt = Files.writeString(dir.resolve("op.crt"), "x");
        assertThatThrownBy(() -> ServerCertificate.load(crt, dir.resolve("missing.key")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(crt.toString());
        create(dir, List.of());
        assertThatThrownBy(() -> ServerCertificate.load(dir.resolve("server.crt"), dir.resolve("missing.key")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(dir.resolve("missing.key").toString());
    }

    @Test
    void shouldRefuseCertificateWithoutKeyRatherThanReplaceIt() throws Exception {
        create(dir, List.of());
        Files.delete(dir.resolve("server.key"));
        assertThatThrownBy(() -> create(dir, List.of()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(dir.resolve("server.key") + " is missing");
    }

    @Test
    void shouldFinishAFirstStartThatCrashedAfterWritingTheKey() throws Exception {
        ServerCertificate first = create(dir, List.of());
        Files.delete(dir.resolve("server.crt"));

        ServerCertificate c = create(dir, List.of());

        assertThat(c.created()).isTrue();
        assertThat(c.keyPem()).isEqualTo(first.keyPem());
        assertThat(c.certificate().getPublicKey()).isEqualTo(first.certificate().getPublicKey());
        assertThat(ServerCertificate.load(dir.resolve("server.crt"), dir.resolve("server.key")).fingerprint()).isEqualTo(c.fingerprint());
    }

    @Test
    void shouldLoadOperatorSuppliedFilesWithoutWritingAnything() throws Exception {
        Path gen = Files.createDirectory(dir.resolve("gen"));
        ServerCertificate made = create(gen, List.of());
        Path crt = dir.resolve("my.crt");
        Path key = dir.resolve("my.key");
        Files.copy(gen.resolve("server.crt"), crt);
        Files.copy(gen.resolve("server.key"), key);

        ServerCertificate c = ServerCertificate.load(crt, key);

        assertThat(c.created()).isFalse();
        assertThat(c.fingerprint()).isEqualTo(made.fingerprint()).isEqualTo(PinnedTrust.fingerprint(c.certificate()));
        assertThat(c.certFile()).isEqualTo(crt);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("gen", "my.crt", "my.key");
        }
    }

    @Test
    void shouldLoadTraditionalKeysAndChainsFromOtherTools() throws Exception {
        Path gen = Files.createDirectory(dir.resolve("gen"));
        Path ca = Files.createDirectory(dir.resolve("ca"));
        ServerCertificate made = create(gen, List.of());
        ServerCertificate intermediate = create(ca, List.of());
        Path crt = dir.resolve("chain.pem");
        Files.writeString(crt, Files.readString(gen.resolve("server.crt")) + Files.readString(ca.resolve("server.crt")));
        Path key = dir.resolve("ec.key");
        // the traditional SEC 1 form `openssl ec` writes: ECPrivateKey with the curve inside
        var pkcs8 = PrivateKeyInfo.getInstance(Pem.readPrivateKey(gen.resolve("server.key")).getEncoded());
        var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256,
                org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(pkcs8.parsePrivateKey()).getKey(),
                pkcs8.getPrivateKeyAlgorithm().getParameters());
        Files.writeString(key, "-----BEGIN EC PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder().encodeToString(sec1.getEncoded()) + "\n-----END EC PRIVATE KEY-----\n");
        assertThat(Files.readString(key)).startsWith("-----BEGIN EC PRIVATE KEY-----");

        ServerCertificate c = ServerCertificate.load(crt, key);

        assertThat(c.fingerprint()).isEqualTo(made.fingerprint());
        assertThat(c.chain()).containsExactly(made.certificate(), intermediate.certificate());
        // handed to Vert.x as PKCS#8, and still the certificate's key
        assertThat(new String(c.keyPem(), java.nio.charset.StandardCharsets.US_ASCII)).startsWith("-----BEGIN PRIVATE KEY-----\n");
        Path reencoded = Files.write(dir.resolve("pkcs8.key"), c.keyPem());
        assertThat(ServerCertificate.load(crt, reencoded).fingerprint()).isEqualTo(made.fingerprint());
    }

    @Test
    void shouldRejectBadExtraNamesBeforeWritingAnything() {
        assertThatThrownBy(() -> create(dir, List.of("bad name!")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'bad name!' is neither a DNS name nor an IP address");
        assertThatThrownBy(() -> create(dir, List.of("999.1.1.1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a valid IP address");
        assertThat(dir.resolve("server.key")).doesNotExist();
    }
}
