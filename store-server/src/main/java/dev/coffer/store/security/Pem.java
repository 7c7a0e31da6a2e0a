package dev.coffer.store.security;

import dev.coffer.chunker.FormatException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * PEM in and out for the server's certificate and key. Writing is fixed (certificates as
 * {@code CERTIFICATE}, keys as unencrypted PKCS#8 {@code PRIVATE KEY}, the forms Vert.x's
 * {@code PemKeyCertOptions} reads); reading accepts what operators bring from other tools
 * (PKCS#8 or the traditional {@code EC/RSA PRIVATE KEY}, certificate chains), through
 * BouncyCastle's parser, and says which file was wrong and why.
 */
final class Pem {

    private static final Base64.Encoder MIME = Base64.getMimeEncoder(64, new byte[] {'\n'});

    private Pem() {}

    static byte[] encode(List<X509Certificate> chain) {
        StringBuilder b = new StringBuilder();
        for (X509Certificate c : chain) {
            try {
                block(b, "CERTIFICATE", c.getEncoded());
            } catch (CertificateException e) {
                throw new IllegalStateException("a parsed certificate must re-encode", e);
            }
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] encode(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("private key has no PKCS#8 encoding: " + key.getFormat());
        }
        StringBuilder b = new StringBuilder();
        block(b, "PRIVATE KEY", key.getEncoded());
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Every certificate in {@code file}, in order (the server's own first). */
    static List<X509Certificate> readCertificates(Path file) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        for (Object o : parse(file, "certificate")) {
            if (o instanceof X509CertificateHolder h) {
                try {
                    chain.add(converter.getCertificate(h));
                } catch (CertificateException e) {
                    throw new FormatException.Malformed(file.toString(), "not a valid X.509 certificate: " + e.getMessage(), e);
                }
            }
        }
        if (chain.isEmpty()) {
            throw new FormatException.Malformed(file.toString(), "no PEM 'CERTIFICATE' block: expected the server certificate in PEM form");
        }
        return chain;
    }

    /** The one private key in {@code file}. */
    static PrivateKey readPrivateKey(Path file) throws IOException {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        PrivateKey key = null;
        for (Object o : parse(file, "private key")) {
            PrivateKeyInfo info;
            if (o instanceof PrivateKeyInfo i) {
                info = i;
            } else if (o instanceof PEMKeyPair pair) {
                // only the private half: in "EC PRIVATE KEY" the public key is optional
                info = pair.getPrivateKeyInfo();
            } else if (o instanceof PKCS8EncryptedPrivateKeyInfo || o instanceof PEMEncryptedKeyPair) {
                throw new FormatException.Malformed(file.toString(),
                        "the private key is encrypted; the server needs it unencrypted (protect the file with mode 0600 instead)");
            } else {
                continue;
            }
            if (key != null) {
                throw new FormatException.Malformed(file.toString(), "holds more than one private key");
            }
            try {
                key = converter.getPrivateKey(info);
            } catch (IOException | RuntimeException e) {
                throw new FormatException.Malformed(file.toString(), "not a usable private key: " + e.getMessage(), e);
            }
        }
        if (key == null) {
            throw new FormatException.Malformed(file.toString(), "no PEM private key block ('PRIVATE KEY', 'EC PRIVATE KEY' or 'RSA PRIVATE KEY')");
        }
        return key;
    }

    private static List<Object> parse(Path file, String what) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IOException("unable to read server " + what + " at " + file + ": " + e, e);
        }
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                objects.add(o);
            }
        } catch (IOException | RuntimeException e) {
            // BouncyCastle reports bad base64 or DER as IOException or IllegalArgumentException
            throw new FormatException.Malformed(file.toString(), "not a valid PEM " + what + ": " + e.getMessage(), e);
        }
        return objects;
    }

    private static void block(StringBuilder b, String type, byte[] der) {
        b.append("-----BEGIN ").append(type).append("-----\n")
                .append(MIME.encodeToString(der)).append('\n')
                .append("-----END ").append(type).append("-----\n");
    }
}
