package dev.coffer.chunker;

import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The few AES-256-GCM calls the chunk codec makes, behind a seam.
 *
 * <p>It exists so a test can watch every call and prove the codec never hands the cipher more than
 * {@link FileFormats#CIPHER_STEP} bytes at once: a fresh JVM fed whole 4 MiB calls runs GCM at
 * ~50–70 MB/s until C2 compiles the intrinsic, while 64 KiB steps reach full speed quickly.
 */
interface GcmCipher {

    void init(int mode, SecretKey key, byte[] iv) throws GeneralSecurityException;

    void updateAAD(byte[] aad);

    int update(byte[] in, int off, int len, byte[] out, int outOff) throws ShortBufferException;

    int doFinal(byte[] out, int outOff) throws GeneralSecurityException;

    /** The JDK's own AES/GCM, intrinsified on x86-64 and aarch64 (never BouncyCastle's: ~50–90 MB/s). */
    static GcmCipher jdk() {
        Cipher cipher;
        try {
            cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is part of every JDK", e);
        }
        return new GcmCipher() {
            @Override
            public void init(int mode, SecretKey key, byte[] iv) throws GeneralSecurityException {
                cipher.init(mode, key, new GCMParameterSpec(8 * FileFormats.GCM_TAG_LENGTH, iv));
            }

            @Override
            public void updateAAD(byte[] aad) {
                cipher.updateAAD(aad);
            }

            @Override
            public int update(byte[] in, int off, int len, byte[] out, int outOff) throws ShortBufferException {
                return cipher.update(in, off, len, out, outOff);
            }

            @Override
            public int doFinal(byte[] out, int outOff) throws GeneralSecurityException {
                return cipher.doFinal(out, outOff);
            }
        };
    }
}
