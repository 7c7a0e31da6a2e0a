package dev.coffer.store.security;

import dev.coffer.chunker.Names;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes the store's self-signed certificate: EC P-256 signed with SHA256withECDSA, valid for
 * ten years, a server-only leaf (not a CA). Ten years because clients pin its fingerprint:
 * every renewal means updating {@code COFFER_FINGERPRINT} on every client, so it should happen
 * only when the operator decides to, never because a date passed.
 */
final class SelfSigned {

    static final Duration VALIDITY = Duration.ofDays(3650);
    /** Back-dated so a client whose clock is a little behind still sees a valid certificate. */
    static final Duration BACKDATE = Duration.ofHours(1);

    private static final Pattern DNS_NAME = Pattern.compile(
            "(?i)(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private SelfSigned() {}

    static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java platform has EC P-256", e);
        }
    }

    /**
     * A certificate for {@code key} naming {@code hostname} (CN and SAN), the loopback names and
     * {@code extraNames} (DNS names or IP literals).
     */
    static X509Certificate create(PublicKey publicKey, PrivateKey privateKey, String hostname, List<String> extraNames, Instant now) {
        X500NameBuilder nb = new X500NameBuilder(BCStyle.INSTANCE);
        String cn = "coffer-" + hostname;
        nb.addRDN(BCStyle.CN, cn.length() > 64 ? cn.substring(0, 64) : cn);
        X500Name subject = nb.build();

        List<String> names = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
        if (DNS_NAME.matcher(hostname).matches()) {
            names.add(hostname);
        }
        names.addAll(extraNames);
        Set<GeneralName> sans = new LinkedHashSet<>();
        for (String n : names) {
            sans.add(generalName(n));
        }
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    subject,
                    new BigInteger(127, RANDOM).add(BigInteger.ONE),
                    Date.from(now.minus(BACKDATE)),
                    Date.from(now.plus(VALIDITY)),
                    subject,
                    publicKey);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey));
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(privateKey)));
        } catch (CertIOException | OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("unable to create the self-signed server certificate: " + e.getMessage(), e);
        }
    }

    /**
     * An IP literal (IPv4 dotted quad, IPv6 with or without brackets) becomes an IP SAN, anything
     * else must be a DNS name.
     *
     * @throws IllegalArgumentException if it is neither
     */
    static GeneralName generalName(String name) {
        String n = name.strip();
        if (n.startsWith("[") && n.endsWith("]")) {
            n = n.substring(1, n.length() - 1);
        }
        if (IPV4.matcher(n).matches() || n.contains(":")) {
            try {
                return new GeneralName(GeneralName.iPAddress, InetAddress.ofLiteral(n).getHostAddress());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + Names.printable(name) + "' is not a valid IP address for the server certificate", e);
            }
        }
        if (n.length() > 253 || !DNS_NAME.matcher(n).matches()) {
            throw new IllegalArgumentException("'" + Names.printable(name) + "' is neither a DNS name nor an IP address: it cannot name the server in its certificate");
        }
        return new GeneralName(GeneralName.dNSName, n.toLowerCase(Locale.ROOT));
    }
}
