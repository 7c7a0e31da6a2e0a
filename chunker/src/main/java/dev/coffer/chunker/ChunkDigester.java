package dev.coffer.chunker;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import javax.crypto.Mac;

/**
 * Names chunks: SHA-256 of the plaintext, or HMAC-SHA256(idKey, plaintext) under a key.
 *
 * <p>This and {@link ChunkCodec} are the only places a chunk digest is computed, so the zero rule
 * cannot be forgotten: an all-zero chunk of any length gets {@link Digest#ZERO} without being
 * hashed. Not thread-safe (it holds a {@link MessageDigest} or {@link Mac}); make one per thread.
 */
public final class ChunkDigester {

    private static final byte[] ZEROS = new byte[64 * 1024];

    private final MessageDigest sha256;
    private final Mac hmac;

    private ChunkDigester(MessageDigest sha256, Mac hmac) {
        this.sha256 = sha256;
        this.hmac = hmac;
    }

    /** Plain SHA-256 digests, for unencrypted backups. */
    public static ChunkDigester plain() {
        return new ChunkDigester(sha256(), null);
    }

    /** Keyed digests under {@code crypt}'s id key, for encrypted backups. */
    public static ChunkDigester keyed(CryptConfig crypt) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(crypt.idKey());
            return new ChunkDigester(null, mac);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Digests for the crypt mode: keyed when {@code crypt} is non-null, else plain. */
    public static ChunkDigester forCrypt(CryptConfig crypt) {
        return crypt == null ? plain() : keyed(crypt);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** True when this digester makes keyed digests. */
    public boolean isKeyed() {
        return hmac != null;
    }

    /** The digest of {@code len} bytes at {@code off}; {@link Digest#ZERO} when all are zero. */
    public Digest digest(byte[] buf, int off, int len) {
        if (isAllZero(buf, off, len)) {
            return Digest.ZERO;
        }
        return hash(buf, off, len);
    }

    /** The hash of the bytes without the zero rule: for data already known not to be all zero. */
    Digest hash(byte[] buf, int off, int len) {
        if (hmac != null) {
            hmac.update(buf, off, len);
            return Digest.wrap(hmac.doFinal());
        }
        sha256.update(buf, off, len);
        return Digest.wrap(sha256.digest());
    }

    /** True when every byte of the range is zero (vectorised by {@link Arrays#mismatch}). */
    public static boolean isAllZero(byte[] buf, int off, int len) {
        int end = off + len;
        for (int pos = off; pos < end; pos += ZEROS.length) {
            int n = Math.min(ZEROS.length, end - pos);
            if (Arrays.mismatch(buf, pos, pos + n, ZEROS, 0, n) >= 0) {
                return false;
            }
        }
        return true;
    }
}
