package dev.coffer.chunker;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The 32-byte name of a chunk: SHA-256 of its plaintext, or HMAC-SHA256(idKey, plaintext) for
 * encrypted backups, so digests reveal nothing across keys.
 *
 * <p>Value-based and immutable: {@link #of} copies its input and {@link #toBytes} returns a copy
 * (modelled on Guava's {@code HashCode}). {@link #equals} runs in constant time because digests are
 * compared against values an attacker may choose. {@link #ZERO}, 32 zero bytes, names every
 * all-zero chunk whatever its length or crypt mode; it is never stored.
 */
public final class Digest implements Comparable<Digest> {

    /** Digest length in bytes. */
    public static final int LENGTH = 32;

    /** The well-known digest of an all-zero chunk of any length: 32 zero bytes. */
    public static final Digest ZERO = new Digest(new byte[LENGTH]);

    private static final HexFormat HEX = HexFormat.of();

    private final byte[] bytes;

    private Digest(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A digest from exactly 32 bytes, copied. */
    public static Digest of(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a digest is " + LENGTH + " bytes, got " + bytes.length);
        }
        return new Digest(bytes.clone());
    }

    /** A digest from 32 bytes of {@code buf} starting at {@code offset}, copied. */
    public static Digest of(byte[] buf, int offset) {
        return new Digest(Arrays.copyOfRange(buf, offset, Math.addExact(offset, LENGTH)));
    }

    /** Takes ownership of a fresh array: only for arrays nobody else holds. */
    static Digest wrap(byte[] fresh) {
        if (fresh.length != LENGTH) {
            throw new IllegalArgumentException("a digest is " + LENGTH + " bytes, got " + fresh.length);
        }
        return new Digest(fresh);
    }

    /**
     * Parses 64 lowercase or uppercase hex characters, and nothing else.
     *
     * @throws IllegalArgumentException if the text is not exactly a 64-character hex string
     */
    public static Digest parse(CharSequence hex) {
        if (hex.length() != 2 * LENGTH) {
            throw new IllegalArgumentException("a digest is " + 2 * LENGTH + " hex characters, got " + hex.length());
        }
        for (int i = 0; i < hex.length(); i++) {
            if (Character.digit(hex.charAt(i), 16) < 0) {
                throw new IllegalArgumentException("not a hex digit at position " + i + " of a digest");
            }
        }
        return new Digest(HEX.parseHex(hex));
    }

    /** True for 64 hex characters: for validating names from the network without exceptions. */
    public static boolean isValidHex(CharSequence hex) {
        if (hex.length() != 2 * LENGTH) {
            return false;
        }
        for (int i = 0; i < hex.length(); i++) {
            char c = hex.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    /** A copy of the 32 bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** Copies the 32 bytes into {@code dst} at {@code offset}. */
    public void copyTo(byte[] dst, int offset) {
        System.arraycopy(bytes, 0, dst, offset, LENGTH);
    }

    /** True for the well-known zero-chunk digest. */
    public boolean isZero() {
        return MessageDigest.isEqual(bytes, ZERO.bytes);
    }

    /** The first 8 hex characters, for logs. */
    public String shortHex() {
        return HEX.formatHex(bytes, 0, 4);
    }

    /** 64 lowercase hex characters. */
    public String hex() {
        return HEX.formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Digest d && MessageDigest.isEqual(bytes, d.bytes);
    }

    @Override
    public int hashCode() {
        // the bytes are already uniformly distributed: the first four are a good hash
        return (bytes[0] & 0xff) | (bytes[1] & 0xff) << 8 | (bytes[2] & 0xff) << 16 | (bytes[3] & 0xff) << 24;
    }

    @Override
    public int compareTo(Digest o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
