package dev.coffer.chunker;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;

/**
 * Turns chunks into stored blobs and back: {@code magic | CRC32C | [IV | tag] | payload}.
 *
 * <p>Encoding compresses with zstd level 1 and keeps the result only when it is smaller, then (with
 * a key) encrypts with AES-256-GCM under a fresh random 96-bit IV, the magic as AAD, in
 * {@link FileFormats#CIPHER_STEP} steps; the CRC32C over everything after it is computed last, so a
 * server without the key can still detect damage. Decoding checks, in order: length, magic, CRC,
 * GCM tag, zstd frame, decoded length, and finally that the plaintext hashes to the digest the
 * caller expects (keyed for encrypted chunks), so a blob is never accepted under a wrong name.
 *
 * <p>All-zero chunks are never encoded (they carry {@link Digest#ZERO} and are never stored).
 * Not thread-safe: it holds a zstd context, a cipher and a digester; make one per thread and
 * {@link #close()} it to free zstd's native memory.
 */
public final class ChunkCodec implements AutoCloseable {

    private final CryptConfig crypt;
    private final boolean compress;
    private final ChunkDigester digester;
    private final GcmCipher cipher;
    private final Consumer<byte[]> ivSource;
    private final ZstdCompressCtx zc;
    private final ZstdDecompressCtx zd;
    private final CRC32C crc = new CRC32C();
    private byte[] scratch = new byte[0];

    ChunkCodec(CryptConfig crypt, boolean compress, GcmCipher cipher, Consumer<byte[]> ivSource) {
        this.crypt = crypt;
        this.compress = compress;
        this.digester = ChunkDigester.forCrypt(crypt);
        this.cipher = cipher;
        this.ivSource = ivSource;
        this.zc = new ZstdCompressCtx().setLevel(1).setChecksum(false).setContentSize(true);
        this.zd = new ZstdDecompressCtx();
    }

    /**
     * A codec for the crypt mode: encrypting when {@code crypt} is non-null, plain otherwise.
     * Compression is on; {@link #uncompressed} turns it off for data known not to compress.
     */
    public static ChunkCodec create(CryptConfig crypt) {
        SecureRandom random = new SecureRandom();
        return new ChunkCodec(crypt, true, crypt == null ? null : GcmCipher.jdk(), random::nextBytes);
    }

    /** A codec that never compresses (stores plain or encrypted-only blobs). */
    public static ChunkCodec uncompressed(CryptConfig crypt) {
        SecureRandom random = new SecureRandom();
        return new ChunkCodec(crypt, false, crypt == null ? null : GcmCipher.jdk(), random::nextBytes);
    }

    /** True when this codec encrypts (and makes keyed digests). */
    public boolean encrypting() {
        return crypt != null;
    }

    /** The chunk's digest under this codec's crypt mode; {@link Digest#ZERO} for all-zero data. */
    public Digest digest(byte[] buf, int off, int len) {
        return digester.digest(buf, off, len);
    }

    /**
     * Encodes one chunk into a blob.
     *
     * @throws IllegalArgumentException if the chunk is empty, larger than
     *     {@link FileFormats#MAX_CHUNK_SIZE}, or all zero (zero chunks are never stored)
     */
    public byte[] encode(byte[] buf, int off, int len) {
        byte[] out = new byte[maxBlobLength(len)];
        int n = encodeInto(buf, off, len, out);
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }

    /** The longest blob a chunk of {@code len} bytes can encode to: the size {@link #encodeInto} needs. */
    public static int maxBlobLength(int len) {
        return FileFormats.BLOB_ENCRYPTED_HEADER_LENGTH + Math.max(len, (int) Zstd.compressBound(len));
    }

    /**
     * Like {@link #encode}, but writes the blob into {@code out[0, n)} and returns {@code n}, so a
     * backup that encodes chunk after chunk reuses its buffers instead of allocating a 4 MiB array
     * per chunk. Unencrypted chunks are compressed straight into {@code out}, with no copy. The
     * bytes are exactly {@link #encode}'s, apart from each encryption's random IV.
     *
     * @param out at least {@link #maxBlobLength}{@code (len)} bytes
     */
    public int encodeInto(byte[] buf, int off, int len, byte[] out) {
        if (len <= 0 || len > FileFormats.MAX_CHUNK_SIZE) {
            throw new IllegalArgumentException("chunk length " + len + " outside 1.." + FileFormats.MAX_CHUNK_SIZE);
        }
        if (out.length < maxBlobLength(len)) {
            throw new IllegalArgumentException("output buffer of " + out.length + " bytes is shorter than " + maxBlobLength(len));
        }
        if (ChunkDigester.isAllZero(buf, off, len)) {
            throw new IllegalArgumentException("an all-zero chunk is never encoded: it is named by the zero digest");
        }
        int header = crypt == null ? FileFormats.BLOB_PLAIN_HEADER_LENGTH : FileFormats.BLOB_ENCRYPTED_HEADER_LENGTH;
        byte[] payload = buf;
        int payloadOff = off;
        int payloadLen = len;
        boolean compressed = false;
        if (compress) {
            int bound = (int) Zstd.compressBound(len);
            byte[] into = out;
            int intoOff = header;
            if (crypt != null) { // the cipher needs the compressed bytes somewhere else than its output
                if (scratch.length < bound) {
                    scratch = new byte[bound];
                }
                into = scratch;
                intoOff = 0;
            }
            int n = zc.compressByteArray(into, intoOff, bound, buf, off, len);
            if (n < len) {
                payload = into;
                payloadOff = intoOff;
                payloadLen = n;
                compressed = true;
            }
        }
        BlobKind kind = BlobKind.of(compressed, crypt != null);
        System.arraycopy(kind.magic(), 0, out, 0, FileFormats.MAGIC_LENGTH);
        if (crypt == null) {
            if (payload != out) {
                System.arraycopy(payload, payloadOff, out, header, payloadLen);
            }
        } else {
            encrypt(kind, payload, payloadOff, payloadLen, out);
        }
        int length = header + payloadLen;
        writeCrc(out, length);
        return length;
    }

    /**
     * Encrypts a config file of an encrypted restore point (domain XML, a QEMU command line) into an
     * uncompressed encrypted blob, so the store never holds its plaintext. Unlike a chunk it may be
     * empty or all zero, and it is not named by a digest: the manifest's signed checksum of the
     * stored bytes pins it instead, and GCM proves it was made under this key.
     *
     * @throws IllegalStateException if this codec has no key
     * @throws IllegalArgumentException if the file would not fit a blob
     */
    public byte[] encryptFile(byte[] plain) {
        if (crypt == null) {
            throw new IllegalStateException("a config file is encrypted only with a key");
        }
        int header = FileFormats.BLOB_ENCRYPTED_HEADER_LENGTH;
        if (plain.length > FileFormats.BLOB_MAX_LENGTH - header) {
            throw new IllegalArgumentException("file of " + plain.length + " bytes is larger than the "
                    + (FileFormats.BLOB_MAX_LENGTH - header) + " an encrypted config file may hold");
        }
        BlobKind kind = BlobKind.ENCRYPTED;
        byte[] blob = new byte[header + plain.length];
        System.arraycopy(kind.magic(), 0, blob, 0, FileFormats.MAGIC_LENGTH);
        encrypt(kind, plain, 0, plain.length, blob);
        writeCrc(blob, blob.length);
        return blob;
    }

    /**
     * Decrypts a config file {@link #encryptFile} made, checking its length, magic, CRC and GCM tag.
     *
     * @param where names the file in messages
     * @throws FormatException when the blob is damaged, not an encrypted file blob, or made under another key
     */
    public byte[] decryptFile(byte[] blob, String where) throws FormatException {
        BlobKind kind = check(blob, where);
        if (kind != BlobKind.ENCRYPTED) {
            throw new FormatException.BadMagic(where, "an encrypted config file must be an uncompressed encrypted blob, got "
                    + kind.name().toLowerCase(java.util.Locale.ROOT));
        }
        return decrypt(kind, blob, blob.length, where);
    }

    private void encrypt(BlobKind kind, byte[] payload, int off, int len, byte[] blob) {
        int ivOff = FileFormats.BLOB_PLAIN_HEADER_LENGTH;
        int tagOff = ivOff + FileFormats.GCM_IV_LENGTH;
        int ctOff = kind.headerLength();
        byte[] iv = new byte[FileFormats.GCM_IV_LENGTH];
        ivSource.accept(iv);
        System.arraycopy(iv, 0, blob, ivOff, iv.length);
        try {
            cipher.init(Cipher.ENCRYPT_MODE, crypt.aesKey(), iv);
            cipher.updateAAD(kind.magic());
            int written = 0;
            for (int pos = 0; pos < len; pos += FileFormats.CIPHER_STEP) {
                int n = Math.min(FileFormats.CIPHER_STEP, len - pos);
                written += cipher.update(payload, off + pos, n, blob, ctOff + written);
            }
            // what GCM holds back (under one block) plus the tag
            byte[] tail = new byte[FileFormats.GCM_TAG_LENGTH + 16];
            int t = cipher.doFinal(tail, 0);
            int rest = t - FileFormats.GCM_TAG_LENGTH;
            System.arraycopy(tail, 0, blob, ctOff + written, rest);
            System.arraycopy(tail, rest, blob, tagOff, FileFormats.GCM_TAG_LENGTH);
            if (written + rest != len) {
                throw new IllegalStateException("GCM produced " + (written + rest) + " bytes for " + len);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM encryption failed", e);
        }
    }

    private void writeCrc(byte[] blob, int length) {
        crc.reset();
        crc.update(blob, FileFormats.BLOB_PLAIN_HEADER_LENGTH, length - FileFormats.BLOB_PLAIN_HEADER_LENGTH);
        Bytes.putIntLE(blob, FileFormats.BLOB_CRC_OFFSET, (int) crc.getValue());
    }

    /**
     * Checks what can be checked without a key: length, magic and CRC.
     *
     * @param where names the blob in the message (for example its digest or file)
     * @return the blob's kind
     * @throws FormatException when the blob is truncated, oversized, of unknown kind or damaged
     */
    public static BlobKind check(byte[] blob, String where) throws FormatException {
        return check(blob, blob.length, where);
    }

    /** {@link #check(byte[], String)} of the blob in {@code blob[0, length)}; {@code length} must not exceed the array. */
    public static BlobKind check(byte[] blob, int length, String where) throws FormatException {
        if (length < FileFormats.BLOB_PLAIN_HEADER_LENGTH) {
            throw new FormatException.Truncated(where, "chunk blob of " + length
                    + " bytes is shorter than its " + FileFormats.BLOB_PLAIN_HEADER_LENGTH + "-byte header");
        }
        if (length > FileFormats.BLOB_MAX_LENGTH) {
            throw new FormatException.SizeMismatch(where, "chunk blob of " + length
                    + " bytes is larger than the limit of " + FileFormats.BLOB_MAX_LENGTH);
        }
        BlobKind kind = BlobKind.fromMagic(blob);
        if (kind == null) {
            throw new FormatException.BadMagic(where, "not a chunk blob (unknown magic "
                    + Bytes.hex(blob, 0, FileFormats.MAGIC_LENGTH) + ")");
        }
        if (length < kind.headerLength()) {
            throw new FormatException.Truncated(where, "encrypted chunk blob of " + length
                    + " bytes is shorter than its " + kind.headerLength() + "-byte header");
        }
        CRC32C c = new CRC32C();
        c.update(blob, FileFormats.BLOB_PLAIN_HEADER_LENGTH, length - FileFormats.BLOB_PLAIN_HEADER_LENGTH);
        int stored = Bytes.getIntLE(blob, FileFormats.BLOB_CRC_OFFSET);
        if (stored != (int) c.getValue()) {
            throw new FormatException.CrcMismatch(where, String.format(
                    "chunk blob CRC32C mismatch (stored %08x, computed %08x): the blob is damaged",
                    stored, (int) c.getValue()));
        }
        return kind;
    }

    /**
     * Decodes a blob back into its chunk and proves it is the chunk named {@code expected}.
     *
     * @param expectedLength the chunk's length (the datastore's chunk size, or less for the last)
     * @return the plaintext chunk, exactly {@code expectedLength} bytes
     * @throws FormatException with a subclass naming the fault: truncated, bad magic, CRC, wrong key
     *     or tampered ciphertext, corrupt zstd frame, size or digest mismatch
     */
    public byte[] decode(byte[] blob, Digest expected, int expectedLength) throws FormatException {
        return decodeTo(blob, blob.length, expected, expectedLength, null);
    }

    /**
     * Like {@link #decode}, but writes the plaintext into {@code out[0, expectedLength)} instead of a
     * new array, so a caller that decodes chunk after chunk (a restore worker, the store's upload
     * check) reuses one buffer. The same checks run in the same order; when one fails, {@code out}
     * may hold part of the rejected chunk.
     *
     * @param out at least {@code expectedLength} bytes
     */
    public void decodeInto(byte[] blob, Digest expected, int expectedLength, byte[] out) throws FormatException {
        if (expectedLength <= FileFormats.MAX_CHUNK_SIZE && out.length < expectedLength) {
            throw new IllegalArgumentException("output buffer of " + out.length + " bytes is shorter than the chunk (" + expectedLength + ")");
        }
        decodeTo(blob, blob.length, expected, expectedLength, out);
    }

    /**
     * {@link #decodeInto(byte[], Digest, int, byte[])} of the blob in {@code blob[0, blobLength)}: a
     * restore receives each blob into one reused buffer longer than the blob.
     */
    public void decodeInto(byte[] blob, int blobLength, Digest expected, int expectedLength, byte[] out) throws FormatException {
        if (blobLength < 0 || blobLength > blob.length) {
            throw new IllegalArgumentException("blob length " + blobLength + " outside 0.." + blob.length);
        }
        if (expectedLength <= FileFormats.MAX_CHUNK_SIZE && out.length < expectedLength) {
            throw new IllegalArgumentException("output buffer of " + out.length + " bytes is shorter than the chunk (" + expectedLength + ")");
        }
        decodeTo(blob, blobLength, expected, expectedLength, out);
    }

    /** Decodes into {@code out} when given, else into a fresh array (or the decrypted payload itself); returns the array. */
    private byte[] decodeTo(byte[] blob, int blobLength, Digest expected, int expectedLength, byte[] out) throws FormatException {
        String where = "chunk " + expected.shortHex();
        if (expectedLength <= 0 || expectedLength > FileFormats.MAX_CHUNK_SIZE) {
            throw new IllegalArgumentException("chunk length " + expectedLength + " outside 1.." + FileFormats.MAX_CHUNK_SIZE);
        }
        BlobKind kind = check(blob, blobLength, where);
        byte[] payload = blob;
        int payloadOff = kind.headerLength();
        int payloadLen = blobLength - payloadOff;
        if (kind.encrypted()) {
            payload = decrypt(kind, blob, blobLength, where);
            payloadOff = 0;
            payloadLen = payload.length;
        }
        byte[] plain;
        if (kind.compressed()) {
            plain = decompress(payload, payloadOff, payloadLen, expectedLength, where, out);
        } else {
            if (payloadLen != expectedLength) {
                throw new FormatException.SizeMismatch(where, "chunk is " + payloadLen
                        + " bytes, expected " + expectedLength);
            }
            if (out != null) {
                System.arraycopy(payload, payloadOff, out, 0, payloadLen);
                plain = out;
            } else {
                plain = payloadOff == 0 && payload.length == payloadLen
                        ? payload : java.util.Arrays.copyOfRange(payload, payloadOff, payloadOff + payloadLen);
            }
        }
        Digest actual = digester.digest(plain, 0, expectedLength);
        if (!actual.equals(expected)) {
            throw new FormatException.DigestMismatch(where, "decoded chunk hashes to " + actual.shortHex()
                    + (digester.isKeyed() ? " (keyed)" : "") + ", not to its name");
        }
        return plain;
    }

    private byte[] decrypt(BlobKind kind, byte[] blob, int blobLength, String where) throws FormatException {
        if (crypt == null) {
            throw new FormatException.DecryptionFailed(where,
                    "chunk is encrypted but no key was given (set COFFER_KEYFILE)", null);
        }
        int ivOff = FileFormats.BLOB_PLAIN_HEADER_LENGTH;
        int tagOff = ivOff + FileFormats.GCM_IV_LENGTH;
        int ctOff = kind.headerLength();
        int ctLen = blobLength - ctOff;
        byte[] iv = java.util.Arrays.copyOfRange(blob, ivOff, tagOff);
        byte[] out = new byte[ctLen + FileFormats.GCM_TAG_LENGTH];
        try {
            cipher.init(Cipher.DECRYPT_MODE, crypt.aesKey(), iv);
            cipher.updateAAD(kind.magic());
            int written = 0;
            for (int pos = 0; pos < ctLen; pos += FileFormats.CIPHER_STEP) {
                int n = Math.min(FileFormats.CIPHER_STEP, ctLen - pos);
                written += cipher.update(blob, ctOff + pos, n, out, written);
            }
            written += cipher.update(blob, tagOff, FileFormats.GCM_TAG_LENGTH, out, written);
            written += cipher.doFinal(out, written);
            if (written != ctLen) {
                throw new FormatException.SizeMismatch(where, "decrypted " + written + " bytes from " + ctLen);
            }
            return out.length == ctLen ? out : java.util.Arrays.copyOf(out, ctLen);
        } catch (AEADBadTagException e) {
            throw new FormatException.DecryptionFailed(where,
                    "AES-GCM authentication failed: wrong key, or the ciphertext was changed", e);
        } catch (GeneralSecurityException e) {
            throw new FormatException.DecryptionFailed(where, "AES-GCM decryption failed: " + e.getMessage(), e);
        }
    }

    private byte[] decompress(byte[] src, int off, int len, int expectedLength, String where, byte[] dest) throws FormatException {
        // a zstd frame starts with a 4-byte magic and a header of at least 2 bytes; zstd-jni's
        // header parser indexes past the end of shorter input (found by ChunkCodecPropertyTest)
        if (len < 6) {
            throw new FormatException.Truncated(where, "zstd payload of " + len + " bytes is shorter than a frame header");
        }
        long declared = Zstd.getFrameContentSize(src, off, len);
        if (declared != expectedLength) {
            if (declared < 0) {
                throw new FormatException.Malformed(where, "zstd frame header is invalid or lacks a content size ("
                        + Zstd.getErrorName(declared) + ")");
            }
            throw new FormatException.SizeMismatch(where, "zstd frame holds " + declared
                    + " bytes, expected " + expectedLength);
        }
        byte[] out = dest != null ? dest : new byte[expectedLength];
        int n;
        try {
            n = zd.decompressByteArray(out, 0, expectedLength, src, off, len);
        } catch (ZstdException e) {
            throw new FormatException.Malformed(where, "zstd frame is corrupt: " + e.getMessage(), e);
        }
        if (n != expectedLength) {
            throw new FormatException.SizeMismatch(where, "zstd frame decoded to " + n
                    + " bytes, expected " + expectedLength);
        }
        return out;
    }

    @Override
    public void close() {
        zc.close();
        zd.close();
    }
}
