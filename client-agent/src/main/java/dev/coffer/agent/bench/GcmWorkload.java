package dev.coffer.agent.bench;

import dev.coffer.chunker.FileFormats;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Bare AES-256-GCM through the JDK's {@code AES/GCM/NoPadding}, fed in
 * {@link FileFormats#CIPHER_STEP} steps as {@code ChunkCodec} feeds it: the cipher's cost on its
 * own. Whole-chunk calls would measure the interpreter instead (GCM stays slow until C2 compiles
 * its intrinsic, and huge single calls delay that).
 */
final class GcmWorkload implements Workload {

    private static final int TAG_BITS = 8 * FileFormats.GCM_TAG_LENGTH;
    private static final AtomicLong WORKER_IDS = new AtomicLong();

    private final byte[] chunk;
    private final SecretKey key;
    private final byte[] iv;
    private final byte[] sealed;

    private GcmWorkload(byte[] chunk, SecretKey key, byte[] iv, byte[] sealed) {
        this.chunk = chunk;
        this.key = key;
        this.iv = iv;
        this.sealed = sealed;
    }

    static GcmWorkload encrypt(byte[] chunk, SecretKey key) {
        return new GcmWorkload(chunk, key, null, null);
    }

    /** Encrypts the chunk once up front (ciphertext then tag); workers then decrypt it. */
    static GcmWorkload decrypt(byte[] chunk, SecretKey key) {
        byte[] iv = new byte[FileFormats.GCM_IV_LENGTH];
        try {
            Cipher cipher = newCipher();
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
            byte[] sealed = new byte[chunk.length + FileFormats.GCM_TAG_LENGTH];
            int n = cipher.doFinal(chunk, 0, chunk.length, sealed, 0);
            return new GcmWorkload(chunk, key, iv, Arrays.copyOf(sealed, n));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
    }

    private static Cipher newCipher() throws GeneralSecurityException {
        return Cipher.getInstance("AES/GCM/NoPadding");
    }

    @Override
    public Worker newWorker() {
        try {
            Cipher cipher = newCipher();
            byte[] out = new byte[chunk.length + 2 * FileFormats.GCM_TAG_LENGTH];
            return sealed == null ? encryptor(cipher, out) : decryptor(cipher, out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is part of every JDK", e);
        }
    }

    private Worker encryptor(Cipher cipher, byte[] out) {
        // GCM must never see a key and IV twice (the JDK refuses): a per-worker prefix and a counter
        ByteBuffer nonce = ByteBuffer.allocate(FileFormats.GCM_IV_LENGTH);
        nonce.putInt(0, (int) WORKER_IDS.incrementAndGet());
        return new Worker() {
            private long counter;

            @Override
            public int runOnce() {
                nonce.putLong(4, ++counter);
                return steps(cipher, Cipher.ENCRYPT_MODE, nonce.array(), chunk, chunk.length, out);
            }
        };
    }

    private Worker decryptor(Cipher cipher, byte[] out) {
        return () -> {
            int n = steps(cipher, Cipher.DECRYPT_MODE, iv, sealed, sealed.length, out);
            if (n != chunk.length) {
                throw new IllegalStateException("AES-GCM decrypted " + n + " bytes, expected " + chunk.length);
            }
            return n;
        };
    }

    private int steps(Cipher cipher, int mode, byte[] nonce, byte[] in, int len, byte[] out) {
        try {
            cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
            int written = 0;
            for (int pos = 0; pos < len; pos += FileFormats.CIPHER_STEP) {
                written += cipher.update(in, pos, Math.min(FileFormats.CIPHER_STEP, len - pos), out, written);
            }
            return written + cipher.doFinal(out, written);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
    }
}
