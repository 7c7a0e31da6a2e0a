package dev.coffer.store.security;

import dev.coffer.chunker.AtomicFiles;
import dev.coffer.chunker.FormatException;
import dev.coffer.store.api.PinnedTrust;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPublicKeySpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.jcajce.provider.asymmetric.util.EC5Util;
import org.bouncycastle.math.ec.ECPoint;

/**
 * The store's TLS identity: a certificate and its private key, in PEM, with the fingerprint
 * clients pin.
 *
 * <p>Why it generates its own: a backup store must be reachable over TLS from the first start,
 * without an operator first running a CA. On first start {@link #loadOrCreate} writes a
 * self-signed EC P-256 certificate ({@value #CERT_FILE}) and its key ({@value #KEY_FILE}, mode
 * 0600) into the state directory, crash-safely; every later start loads the same pair, so the
 * fingerprint stays stable and pinned clients keep working. An operator who has a certificate
 * from their own CA passes it with {@link #load} instead, and nothing is generated.
 *
 * <p>The PEM bytes ({@link #certificatePem()}, {@link #keyPem()}) are what the Vert.x server
 * takes: {@code new PemKeyCertOptions().setCertValue(Buffer.buffer(c.certificatePem()))
 * .setKeyValue(Buffer.buffer(c.keyPem()))}.
 */
public final class ServerCertificate {

    /** The certificate's file name in the state directory (PEM). */
    public static final String CERT_FILE = "server.crt";
    /** The private key's file name in the state directory (PEM, PKCS#8, mode 0600). */
    public static final String KEY_FILE = "server.key";

    private final List<X509Certificate> chain;
    private final PrivateKey key;
    private final Path certFile;
    private final Path keyFile;
    private final boolean created;
    private final String fingerprint;

    private ServerCertificate(List<X509Certificate> chain, PrivateKey key, Path certFile, Path keyFile, boolean created) {
        this.chain = List.copyOf(chain);
        this.key = key;
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.created = created;
        try {
            this.fingerprint = PinnedTrust.fingerprint(chain.getFirst());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a parsed certificate must re-encode", e);
        }
    }

    /** {@link #loadOrCreate(Path, String, List, Clock)} for this machine's host name and the system clock. */
    public static ServerCertificate loadOrCreate(Path stateDir, List<String> extraNames) throws IOException {
        return loadOrCreate(stateDir, localHostname(), extraNames, Clock.systemUTC());
    }

    /**
     * Loads the certificate in {@code stateDir}, or creates it there on first start.
     *
     * <p>A new certificate has the subject {@code CN=coffer-<hostname>} and names localhost,
     * 127.0.0.1, ::1, {@code hostname} and {@code extraNames}. An existing certificate is loaded
     * as it is: {@code extraNames} do not change it (that would change its fingerprint); to add
     * names, delete both files and re-pin the new fingerprint on every client.
     *
     * @param stateDir the server's state directory, created (mode 0700) if missing
     * @param hostname the machine's host name, as {@link #localHostname()} finds it
     * @param extraNames further DNS names or IP literals the server is reached by
     * @param clock the time the certificate's validity starts from
     * @throws IllegalArgumentException if an extra name is neither a DNS name nor an IP address
     * @throws IOException if the files cannot be read or written, are not PEM, or do not match
     */
    public static ServerCertificate loadOrCreate(Path stateDir, String hostname, List<String> extraNames, Clock clock) throws IOException {
        extraNames.forEach(SelfSigned::generalName); // reject a bad name now, not on some later first start
        Path certFile = stateDir.resolve(CERT_FILE);
        Path keyFile = stateDir.resolve(KEY_FILE);
        boolean haveCert = Files.exists(certFile);
        boolean haveKey = Files.exists(keyFile);
        if (haveCert && haveKey) {
            return load(certFile, keyFile);
        }
        if (haveCert) {
            throw new IOException("unable to load the server certificate: " + certFile + " exists but its key "
                    + keyFile + " is missing; restore the key, or delete " + certFile
                    + " to generate a new certificate (clients must then pin its new fingerprint)");
        }
        if (!Files.isDirectory(stateDir)) {
            Files.createDirectories(stateDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        PrivateKey privateKey;
        PublicKey publicKey;
        if (haveKey) {
            // the key is written first, so a key without a certificate is a first start that
            // crashed in between: no client can have pinned a certificate that was never written
            privateKey = Pem.readPrivateKey(keyFile);
            publicKey = publicKeyOf(privateKey, keyFile);
        } else {
            KeyPair pair = SelfSigned.newKeyPair();
            privateKey = pair.getPrivate();
            publicKey = pair.getPublic();
            AtomicFiles.writeNew(keyFile, Pem.encode(privateKey), "rw-------");
        }
        X509Certificate cert = SelfSigned.create(publicKey, privateKey, hostname, extraNames, clock.instant());
        AtomicFiles.writeNew(certFile, Pem.encode(List.of(cert)), "rw-r--r--");
        return new ServerCertificate(List.of(cert), privateKey, certFile, keyFile, true);
    }

    /**
     * Loads an operator-supplied certificate (PEM, the server's own first, then any
     * intermediates) and its private key (PEM, unencrypted PKCS#8 or traditional). Nothing is
     * generated or written.
     *
     * @throws IOException naming the file, if a file cannot be read or parsed, or if the key is
     *     not the certificate's
     */
    public static ServerCertificate load(Path certFile, Path keyFile) throws IOException {
        List<X509Certificate> chain = Pem.readCertificates(certFile);
        PrivateKey key = Pem.readPrivateKey(keyFile);
        checkPair(chain.getFirst(), certFile, key, keyFile);
        return new ServerCertificate(chain, key, certFile, keyFile, false);
    }

    /**
     * This machine's host name without a DNS lookup: the kernel's, else the JDK's idea of it,
     * else "localhost".
     */
    public static String localHostname() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII).strip();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc not mounted: fall through
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** The server's own certificate (the first of {@link #chain()}). */
    public X509Certificate certificate() {
        return chain.getFirst();
    }

    /** The certificate and any intermediates, the server's own first. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The certificate chain in PEM, for {@code PemKeyCertOptions.setCertValue}. */
    public byte[] certificatePem() {
        return Pem.encode(chain);
    }

    /** The private key as unencrypted PKCS#8 PEM, for {@code PemKeyCertOptions.setKeyValue}. Secret. */
    public byte[] keyPem() {
        return Pem.encode(key);
    }

    /** SHA-256 of the certificate's DER, as lowercase hex pairs joined by ':': what clients pin. */
    public String fingerprint() {
        return fingerprint;
    }

    /** The DNS names and IP addresses the certificate names, in its order. */
    public List<String> subjectAltNames() {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate().getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    names.add(String.valueOf(san.get(1)));
                }
            }
        } catch (CertificateParsingException e) {
            // an operator's certificate with an unreadable SAN extension: report none
        }
        return names;
    }

    /** True when this start generated the certificate (print its fingerprint prominently). */
    public boolean created() {
        return created;
    }

    public Path certFile() {
        return certFile;
    }

    public Path keyFile() {
        return keyFile;
    }

    @Override
    public String toString() {
        return "ServerCertificate[" + certificate().getSubjectX500Principal().getName() + ", " + fingerprint + ", " + certFile + "]";
    }

    /** Proves the key is the certificate's by signing a random challenge and verifying it. */
    private static void checkPair(X509Certificate cert, Path certFile, PrivateKey key, Path keyFile) throws IOException {
        PublicKey pub = cert.getPublicKey();
        String mismatch = "the private key in " + keyFile + " does not belong to the certificate in " + certFile
                + ": use the key the certificate was issued for";
        if (!pub.getAlgorithm().equals(key.getAlgorithm())) {
            throw new FormatException.Malformed(keyFile.toString(), mismatch + " (a " + key.getAlgorithm()
                    + " key for a " + pub.getAlgorithm() + " certificate)");
        }
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        try {
            String alg = signatureAlgorithm(key, keyFile);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(challenge);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(challenge);
            if (!v.verify(sig)) {
                throw new FormatException.Malformed(keyFile.toString(), mismatch);
            }
        } catch (GeneralSecurityException e) {
            throw new FormatException.Malformed(keyFile.toString(), mismatch + " (" + e.getMessage() + ")", e);
        }
    }

    private static String signatureAlgorithm(PrivateKey key, Path keyFile) throws FormatException {
        return switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> throw new FormatException.Malformed(keyFile.toString(), "unsupported key type " + key.getAlgorithm()
                    + ": use an EC, RSA or Ed25519 key");
        };
    }

    /** The public half of an EC key, from its private scalar (needed only in the crash case). */
    private static PublicKey publicKeyOf(PrivateKey key, Path keyFile) throws IOException {
        if (!(key instanceof ECPrivateKey ec)) {
            throw new FormatException.Malformed(keyFile.toString(), "expected the EC key Coffer generates, found "
                    + key.getAlgorithm() + "; delete it to generate a new certificate and key");
        }
        try {
            ECParameterSpec params = ec.getParams();
            ECPoint q = EC5Util.convertCurve(params.getCurve())
                    .createPoint(params.getGenerator().getAffineX(), params.getGenerator().getAffineY())
                    .multiply(ec.getS())
                    .normalize();
            java.security.spec.ECPoint w = new java.security.spec.ECPoint(
                    q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
            return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, params));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new FormatException.Malformed(keyFile.toString(), "unusable EC key: " + e.getMessage(), e);
        }
    }
}
