package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class ChunkCodecTest {

    private static final CryptConfig KEY = CryptConfig.fromMasterKey(TestData.katMasterKey());
    private static final HexFormat HEX = HexFormat.of();

    // Known answers. The plain and encrypted blobs were computed independently in Python
    // (hashlib, cryptography's AESGCM, a bitwise CRC32C); see docs/formats.md.
    private static final String KAT_PLAIN_BLOB_SHA256 = "85a3f0939f3b867ab9d3690931181c2d021f8fa5fb25c134562ab15c465a9de4";
    private static final String KAT_ENCRYPTED_BLOB_SHA256 = "6c00adef18f3d11fe78667353f661933854a4fdf5658b5383827f4ed2b164eea";
    private static final String KAT_ENCRYPTED_BLOB_HEAD =
            "32b9ca3d43fc09a4a3678ce7a0a1a2a3a4a5a6a7a8a9aaabf41581b7f4aa8302439b9841b8c471a8ce7320576036ec9a";
    // Compressed blobs are pinned from Coffer's own output (zstd-jni, level 1). A zstd upgrade may
    // legitimately change the encoding (re-pin with care); the decode pins must never change.
    private static final String KAT_ZSTD_BLOB = ZstdKat.PLAIN_HEX;
    private static final String KAT_ZSTD_ENCRYPTED_BLOB = ZstdKat.ENCRYPTED_HEX;

    @Test
    void shouldEncodeThePlainKnownAnswer() throws Exception {
        byte[] data = TestData.shaStream(1000);
        try (ChunkCodec codec = TestData.fixedIvCodec(null, true)) {
            byte[] blob = codec.encode(data, 0, data.length);
            assertThat(blob).hasSize(1012);
            assertThat(TestData.sha256Hex(blob)).isEqualTo(KAT_PLAIN_BLOB_SHA256);
            assertThat(ChunkCodec.check(blob, "kat")).isEqualTo(BlobKind.PLAIN);
            assertThat(codec.decode(blob, codec.digest(data, 0, data.length), data.length)).isEqualTo(data);
        }
    }

    @Test
    void shouldEncodeTheEncryptedKnownAnswer() throws Exception {
        byte[] data = TestData.shaStream(1000);
        try (ChunkCodec codec = TestData.fixedIvCodec(KEY, true)) {
            byte[] blob = codec.encode(data, 0, data.length);
            assertThat(blob).hasSize(1040);
            assertThat(HEX.formatHex(blob, 0, 48)).isEqualTo(KAT_ENCRYPTED_BLOB_HEAD);
            assertThat(TestData.sha256Hex(blob)).isEqualTo(KAT_ENCRYPTED_BLOB_SHA256);
            assertThat(ChunkCodec.check(blob, "kat")).isEqualTo(BlobKind.ENCRYPTED);
        }
    }

    @Test
    void shouldEncodeAndDecodeTheCompressedKnownAnswers() throws Exception {
        byte[] data = TestData.text(3000, 42);
        try (ChunkCodec plain = TestData.fixedIvCodec(null, true);
                ChunkCodec enc = TestData.fixedIvCodec(KEY, true)) {
            assertThat(HEX.formatHex(plain.encode(data, 0, data.length))).isEqualTo(KAT_ZSTD_BLOB);
            assertThat(HEX.formatHex(enc.encode(data, 0, data.length))).isEqualTo(KAT_ZSTD_ENCRYPTED_BLOB);
        }
        try (ChunkCodec plain = ChunkCodec.create(null); ChunkCodec enc = ChunkCodec.create(KEY)) {
            byte[] zb = HEX.parseHex(KAT_ZSTD_BLOB);
            byte[] zeb = HEX.parseHex(KAT_ZSTD_ENCRYPTED_BLOB);
            assertThat(ChunkCodec.check(zb, "kat")).isEqualTo(BlobKind.ZSTD);
            assertThat(ChunkCodec.check(zeb, "kat")).isEqualTo(BlobKind.ZSTD_ENCRYPTED);
            assertThat(plain.decode(zb, plain.digest(data, 0, data.length), data.length)).isEqualTo(data);
            assertThat(enc.decode(zeb, enc.digest(data, 0, data.length), data.length)).isEqualTo(data);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 15, 16, 17, 65535, 65536, 65537, 1 << 20, (4 << 20) - 1, 4 << 20})
    void shouldRoundTripEveryKindAtAwkwardLengths(int len) throws Exception {
        byte[] text = TestData.text(len, len);
        byte[] random = TestData.random(len, len);
        if (ChunkDigester.isAllZero(random, 0, len)) {
            random[0] = 1;
        }
        try (ChunkCodec plain = ChunkCodec.create(null); ChunkCodec enc = ChunkCodec.create(KEY)) {
            for (ChunkCodec codec : List.of(plain, enc)) {
                for (byte[] data : List.of(text, random)) {
                    byte[] blob = codec.encode(data, 0, len);
                    Digest d = codec.digest(data, 0, len);
                    assertThat(codec.decode(blob, d, len)).isEqualTo(data);
                }
            }
        }
    }

    @Test
    void shouldDecodeEveryKindIntoAReusedBuffer() throws Exception {
        int len = 65536 + 7;
        byte[] out = new byte[FileFormats.MAX_CHUNK_SIZE];
        try (ChunkCodec plain = ChunkCodec.create(null); ChunkCodec enc = ChunkCodec.create(KEY)) {
            for (ChunkCodec codec : List.of(plain, enc)) {
                for (byte[] data : List.of(TestData.text(len, 3), TestData.random(len, 4))) {
                    byte[] blob = codec.encode(data, 0, len);
                    Digest d = codec.digest(data, 0, len);
                    java.util.Arrays.fill(out, (byte) 0x5a); // what a previous chunk left behind
                    codec.decodeInto(blob, d, len, out);
                    assertThat(java.util.Arrays.copyOf(out, len)).isEqualTo(data);
                    Digest other = codec.digest(TestData.text(len, 5), 0, len);
                    assertThatThrownBy(() -> codec.decodeInto(blob, other, len, out)).isInstanceOf(FormatException.DigestMismatch.class);
                    assertThatThrownBy(() -> codec.decodeInto(blob, d, len, new byte[len - 1])).isInstanceOf(IllegalArgumentException.class);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 100, 65536, 4 * 1024 * 1024})
    void shouldEncodeIntoAReusedBufferTheBytesOfEncode(int len) throws Exception {
        // one dirty buffer for every chunk: what was there before must not leak into a blob
        byte[] out = new byte[ChunkCodec.maxBlobLength(4 * 1024 * 1024)];
        java.util.Arrays.fill(out, (byte) 0x5a);
        for (CryptConfig crypt : java.util.Arrays.asList(null, KEY)) {
            for (boolean compress : new boolean[] {true, false}) {
                for (byte[] data : List.of(TestData.text(len, 7), TestData.random(len, 8))) {
                    // two codecs with the same fixed IV (one cipher refuses to encrypt twice under one IV)
                    try (ChunkCodec into = TestData.fixedIvCodec(crypt, compress);
                            ChunkCodec whole = TestData.fixedIvCodec(crypt, compress)) {
                        int n = into.encodeInto(data, 0, len, out);
                        byte[] blob = java.util.Arrays.copyOf(out, n);
                        assertThat(blob).isEqualTo(whole.encode(data, 0, len));
                        assertThat(into.decode(blob, into.digest(data, 0, len), len)).isEqualTo(data);
                        byte[] plain = new byte[len]; // and back from the buffer, past whose blob old bytes remain
                        into.decodeInto(out, n, into.digest(data, 0, len), len, plain);
                        assertThat(plain).isEqualTo(data);
                    }
                }
            }
        }
    }

    @Test
    void shouldRefuseAnEncodeBufferShorterThanTheLongestBlob() {
        try (ChunkCodec codec = ChunkCodec.create(null)) {
            byte[] data = TestData.random(1000, 1);
            assertThatThrownBy(() -> codec.encodeInto(data, 0, 1000, new byte[ChunkCodec.maxBlobLength(1000) - 1]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shorter than");
        }
    }

    @Test
    void shouldKeepCompressionOnlyWhenItShrinks() throws Exception {
        try (ChunkCodec codec = ChunkCodec.create(null)) {
            byte[] random = TestData.random(65536, 1);
            byte[] text = TestData.text(65536, 1);
            assertThat(ChunkCodec.check(codec.encode(random, 0, random.length), "r")).isEqualTo(BlobKind.PLAIN);
            byte[] zblob = codec.encode(text, 0, text.length);
            assertThat(ChunkCodec.check(zblob, "t")).isEqualTo(BlobKind.ZSTD);
            assertThat(zblob.length).isLessThan(text.length / 2);
        }
    }

    @Test
    void shouldEncodeASliceOfALargerBuffer() throws Exception {
        byte[] buf = TestData.text(10000, 3);
        try (ChunkCodec codec = ChunkCodec.create(KEY)) {
            byte[] blob = codec.encode(buf, 1234, 5000);
            byte[] expected = java.util.Arrays.copyOfRange(buf, 1234, 6234);
            assertThat(codec.decode(blob, codec.digest(expected, 0, 5000), 5000)).isEqualTo(expected);
        }
    }

    @Test
    void shouldNeverEncodeAZeroChunk() {
        try (ChunkCodec codec = ChunkCodec.create(null)) {
            assertThatThrownBy(() -> codec.encode(new byte[4096], 0, 4096))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("zero digest");
        }
    }

    @Test
    void shouldUseAFreshIvForEveryEncryptedChunk() {
        byte[] data = TestData.text(5000, 9);
        try (ChunkCodec codec = ChunkCodec.create(KEY)) {
            byte[] a = codec.encode(data, 0, data.length);
            byte[] b = codec.encode(data, 0, data.length);
            assertThat(java.util.Arrays.copyOfRange(a, 12, 24)).isNotEqualTo(java.util.Arrays.copyOfRange(b, 12, 24));
        }
    }

    // ---- every kind of bad input gets its own typed exception naming the chunk

    @Test
    void shouldRejectTruncatedBlob() {
        try (ChunkCodec codec = ChunkCodec.create(null)) {
            assertThatThrownBy(() -> codec.decode(new byte[5], Digest.ZERO, 10))
                    .isInstanceOf(FormatException.Truncated.class).hasMessageContaining("chunk 00000000");
        }
        byte[] enc = encode(KEY, TestData.text(100, 1));
        assertThatThrownBy(() -> ChunkCodec.check(java.util.Arrays.copyOf(enc, 30), "x"))
                .isInstanceOf(FormatException.Truncated.class).hasMessageContaining("encrypted");
    }

    @Test
    void shouldRejectUnknownMagic() {
        byte[] blob = encode(null, TestData.text(100, 1));
        blob[0] ^= 0x40;
        assertThatThrownBy(() -> ChunkCodec.check(blob, "chunk abc"))
                .isInstanceOf(FormatException.BadMagic.class).hasMessageStartingWith("chunk abc: not a chunk blob");
    }

    @Test
    void shouldRejectDamagedBytesByCrc() {
        byte[] data = TestData.text(1000, 1);
        byte[] blob = encode(null, data);
        blob[blob.length - 1] ^= 1;
        try (ChunkCodec codec = ChunkCodec.create(null)) {
            assertThatThrownBy(() -> codec.decode(blob, codec.digest(data, 0, 1000), 1000))
                    .isInstanceOf(FormatException.CrcMismatch.class).hasMessageContaining("CRC32C mismatch");
        }
    }

    @Test
    void shouldRejectWrongSize() {
        byte[] data = TestData.random(1000, 1);
        byte[] blob = encode(null, data);
        byte[] zblob = encode(null, TestData.text(1000, 1));
        try (ChunkCodec codec = ChunkCodec.create(null)) {
            Digest d = codec.digest(data, 0, 1000);
            assertThatThrownBy(() -> codec.decode(blob, d, 999))
                    .isInstanceOf(FormatException.SizeMismatch.class).hasMessageContaining("expected 999");
            assertThatThrownBy(() -> codec.decode(zblob, d, 1001))
                    .isInstanceOf(FormatException.SizeMismatch.class).hasMessageContaining("zstd frame holds 1000");
        }
    }

    @Test
    void shouldRejectWrongKeyAndTamperedCiphertext() {
        byte[] data = TestData.text(1000, 1);
        byte[] blob = encode(KEY, data);
        CryptConfig other = CryptConfig.fromMasterKey(TestData.random(32, 5));
        try (ChunkCodec wrong = ChunkCodec.create(other); ChunkCodec right = ChunkCodec.create(KEY);
                ChunkCodec none = ChunkCodec.create(null)) {
            Digest d = right.digest(data, 0, 1000);
            assertThatThrownBy(() -> wrong.decode(blob, d, 1000))
                    .isInstanceOf(FormatException.DecryptionFailed.class).hasMessageContaining("wrong key");
            assertThatThrownBy(() -> none.decode(blob, d, 1000))
                    .isInstanceOf(FormatException.DecryptionFailed.class).hasMessageContaining("no key");
            byte[] tampered = blob.clone();
            tampered[50] ^= 1;
            fixCrc(tampered); // a deliberate forger recomputes the CRC: the GCM tag still catches it
            assertThatThrownBy(() -> right.decode(tampered, d, 1000))
                    .isInstanceOf(FormatException.DecryptionFailed.class);
            byte[] swapped = blob.clone(); // relabel as another kind: the magic is the AAD
            System.arraycopy(FileFormats.BLOB_ENCRYPTED_MAGIC, 0, swapped, 0, 8);
            assertThatThrownBy(() -> right.decode(swapped, d, 1000))
                    .isInstanceOf(FormatException.DecryptionFailed.class);
        }
    }

    @Test
    void shouldRejectDigestMismatch() {
        byte[] data = TestData.text(1000, 1);
        byte[] blob = encode(null, data);
        Digest other = Digest.of(TestData.random(32, 7));
        try (ChunkCodec codec = ChunkCodec.create(null); ChunkCodec enc = ChunkCodec.create(KEY)) {
            assertThatThrownBy(() -> codec.decode(blob, other, 1000))
                    .isInstanceOf(FormatException.DigestMismatch.class).hasMessageContaining("chunk " + other.shortHex());
            // an encrypted blob is checked against the keyed digest, never the plain one
            byte[] eblob = encode(KEY, data);
            assertThatThrownBy(() -> enc.decode(eblob, codec.digest(data, 0, 1000), 1000))
                    .isInstanceOf(FormatException.DigestMismatch.class).hasMessageContaining("(keyed)");
        }
    }

    @Test
    void shouldRejectCorruptZstdFrameEvenWithValidCrc() {
        byte[] data = TestData.text(5000, 1);
        byte[] blob = encode(null, data);
        blob[blob.length - 3] ^= (byte) 0xff;
        fixCrc(blob);
        try (ChunkCodec codec = ChunkCodec.create(null)) {
            assertThatThrownBy(() -> codec.decode(blob, codec.digest(data, 0, 5000), 5000))
                    .isInstanceOf(FormatException.class);
        }
    }

    // ---- structural: the cipher never sees more than 64 KiB per call

    @Test
    void shouldNeverHandTheCipherMoreThanOneStepPerCall() throws Exception {
        RecordingCipher rec = new RecordingCipher(GcmCipher.jdk());
        byte[] data = TestData.random(4 << 20, 11);
        try (ChunkCodec codec = new ChunkCodec(KEY, true, rec, iv -> new java.security.SecureRandom().nextBytes(iv))) {
            byte[] blob = codec.encode(data, 0, data.length);
            int encryptCalls = rec.updateLengths.size();
            assertThat(encryptCalls).isEqualTo(64); // 4 MiB of incompressible data in 64 KiB steps
            byte[] back = codec.decode(blob, codec.digest(data, 0, data.length), data.length);
            assertThat(back).isEqualTo(data);
            assertThat(rec.updateLengths.size()).isGreaterThan(encryptCalls + 64);
        }
        assertThat(rec.updateLengths).allSatisfy(n -> assertThat(n).isBetween(1, FileFormats.CIPHER_STEP));
        assertThat(rec.finals).isEqualTo(2);
    }

    private static final class RecordingCipher implements GcmCipher {
        final GcmCipher inner;
        final List<Integer> updateLengths = new ArrayList<>();
        int finals;

        RecordingCipher(GcmCipher inner) {
            this.inner = inner;
        }

        @Override
        public void init(int mode, SecretKey key, byte[] iv) throws GeneralSecurityException {
            inner.init(mode, key, iv);
        }

        @Override
        public void updateAAD(byte[] aad) {
            inner.updateAAD(aad);
        }

        @Override
        public int update(byte[] in, int off, int len, byte[] out, int outOff) throws ShortBufferException {
            updateLengths.add(len);
            return inner.update(in, off, len, out, outOff);
        }

        @Override
        public int doFinal(byte[] out, int outOff) throws GeneralSecurityException {
            finals++;
            return inner.doFinal(out, outOff);
        }
    }

    static byte[] encode(CryptConfig key, byte[] data) {
        try (ChunkCodec codec = ChunkCodec.create(key)) {
            return codec.encode(data, 0, data.length);
        }
    }

    static void fixCrc(byte[] blob) {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(blob, 12, blob.length - 12);
        Bytes.putIntLE(blob, 8, (int) c.getValue());
    }
}
