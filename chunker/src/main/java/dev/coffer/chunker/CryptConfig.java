package dev.coffer.chunker;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.KDF;
import javax.crypto.SecretKey;
import javax.crypto.spec.HKDFParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys of one encryption key, derived from its random 32-byte master key.
 *
 * <p>HKDF-SHA256 with a distinct label per purpose (labels in {@link FileFormats}) derives the
 * AES-256-GCM chunk key, the id key for keyed digests, the manifest HMAC key and the public
 * fingerprint. Separate keys mean no key is ever used for two algorithms, and the fingerprint
 * identifies a key without revealing anything that decrypts. Immutable and thread-safe; the
 * master key never leaves this object (and the client: the store only ever sees the fingerprint).
 */
public final class CryptConfig {

    /** Master key length in bytes. */
    public static final int MASTER_KEY_LENGTH = 32;

    private final SecretKey aesKey;
    private final SecretKey idKey;
    private final SecretKey manifestKey;
    private final byte[] fingerprint;

    private CryptConfig(byte[] master) {
        this.aesKey = new SecretKeySpec(derive(master, FileFormats.HKDF_AES_KEY_LABEL), "AES");
        this.idKey = new SecretKeySpec(derive(master, FileFormats.HKDF_ID_KEY_LABEL), "HmacSHA256");
        this.manifestKey = new SecretKeySpec(derive(master, FileFormats.HKDF_MANIFEST_KEY_LABEL), "HmacSHA256");
        this.fingerprint = derive(master, FileFormats.HKDF_FINGERPRINT_LABEL);
    }

    /** Keys derived from a 32-byte master key (the array is not kept). */
    public static CryptConfig fromMasterKey(byte[] masterKey) {
        if (masterKey.length != MASTER_KEY_LENGTH) {
            throw new IllegalArgumentException("a master key is " + MASTER_KEY_LENGTH + " bytes, got " + masterKey.length);
        }
        return new CryptConfig(masterKey);
    }

    private static byte[] derive(byte[] master, String label) {
        try {
            KDF hkdf = KDF.getInstance("HKDF-SHA256");
            return hkdf.deriveData(HKDFParameterSpec.ofExtract()
                    .addIKM(master)
                    .thenExpand(label.getBytes(StandardCharsets.US_ASCII), 32));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HKDF-SHA256 is part of every JDK 25", e);
        }
    }

    SecretKey aesKey() {
        return aesKey;
    }

    SecretKey idKey() {
        return idKey;
    }

    SecretKey manifestKey() {
        return manifestKey;
    }

    /** The key's fingerprint: 32 bytes, safe to show and to store on the server. */
    public byte[] fingerprintBytes() {
        return fingerprint.clone();
    }

    /** The fingerprint as lowercase hex pairs joined by colons, as shown to operators. */
    public String fingerprint() {
        return HexFormat.ofDelimiter(":").formatHex(fingerprint);
    }

    /** True when {@code text} is this key's fingerprint (as {@link #fingerprint()} prints it). */
    public boolean matchesFingerprint(String text) {
        return MessageDigest.isEqual(fingerprint().getBytes(StandardCharsets.US_ASCII),
                text.getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public String toString() {
        return "CryptConfig[" + fingerprint() + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CryptConfig c && MessageDigest.isEqual(fingerprint, c.fingerprint);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(fingerprint);
    }
}
