package dev.coffer.chunker;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** Deterministic test inputs shared by the chunker tests. */
final class TestData {

    private TestData() {}

    /** The master key 0x00..0x1f used by every known-answer test. */
    static byte[] katMasterKey() {
        byte[] k = new byte[32];
        for (int i = 0; i < k.length; i++) {
            k[i] = (byte) i;
        }
        return k;
    }

    /** The IV 0xa0..0xab used by every known-answer test. */
    static byte[] katIv() {
        byte[] iv = new byte[12];
        for (int i = 0; i < iv.length; i++) {
            iv[i] = (byte) (0xa0 + i);
        }
        return iv;
    }

    /** Incompressible bytes: SHA-256(le32(0)) || SHA-256(le32(1)) || …, cut to {@code len}. */
    static byte[] shaStream(int len) {
        byte[] out = new byte[len];
        MessageDigest sha = ChunkDigester.sha256();
        for (int i = 0, pos = 0; pos < len; i++, pos += 32) {
            sha.update(new byte[] {(byte) i, (byte) (i >>> 8), (byte) (i >>> 16), (byte) (i >>> 24)});
            byte[] d = sha.digest();
            System.arraycopy(d, 0, out, pos, Math.min(32, len - pos));
        }
        return out;
    }

    /** Compressible, text-like bytes from a seed. */
    static byte[] text(int len, long seed) {
        String[] words = {"the ", "backup ", "chunk ", "of ", "a ", "virtual ", "machine ", "disk ", "is ", "stored ", "once\n"};
        SplittableRandom r = new SplittableRandom(seed);
        byte[] out = new byte[len];
        int pos = 0;
        while (pos < len) {
            byte[] w = words[r.nextInt(words.length)].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            int n = Math.min(w.length, len - pos);
            System.arraycopy(w, 0, out, pos, n);
            pos += n;
        }
        return out;
    }

    /** Random bytes from a seed. */
    static byte[] random(int len, long seed) {
        byte[] out = new byte[len];
        new SplittableRandom(seed).nextBytes(out);
        return out;
    }

    static String sha256Hex(byte[] b) {
        return HexFormat.of().formatHex(ChunkDigester.sha256().digest(b));
    }

    /** A codec with a fixed IV, for known-answer tests (a fixed IV is never safe outside them). */
    static ChunkCodec fixedIvCodec(CryptConfig crypt, boolean compress) {
        return new ChunkCodec(crypt, compress, crypt == null ? null : GcmCipher.jdk(),
                iv -> System.arraycopy(katIv(), 0, iv, 0, iv.length));
    }
}
