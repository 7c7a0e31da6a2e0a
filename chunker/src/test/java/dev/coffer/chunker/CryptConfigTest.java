package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class CryptConfigTest {

    // computed independently with Python's cryptography HKDF (salt None, info = label, L = 32)
    private static final String KAT_FINGERPRINT =
            "a1:d5:39:32:b9:ee:80:89:80:74:fa:6f:20:67:17:24:f8:cc:f6:50:b3:33:5e:95:ce:de:15:1a:19:cd:93:a9";

    @Test
    void shouldDeriveTheKnownFingerprint() {
        CryptConfig c = CryptConfig.fromMasterKey(TestData.katMasterKey());
        assertThat(c.fingerprint()).isEqualTo(KAT_FINGERPRINT);
        assertThat(c.matchesFingerprint(KAT_FINGERPRINT)).isTrue();
        assertThat(c.matchesFingerprint(KAT_FINGERPRINT.replace('a', 'b'))).isFalse();
    }

    @Test
    void shouldDeriveDistinctKeysPerPurpose() {
        CryptConfig c = CryptConfig.fromMasterKey(TestData.katMasterKey());
        assertThat(c.aesKey().getEncoded()).isNotEqualTo(c.idKey().getEncoded());
        assertThat(c.idKey().getEncoded()).isNotEqualTo(c.manifestKey().getEncoded());
        assertThat(c.manifestKey().getEncoded()).isNotEqualTo(c.fingerprintBytes());
    }

    @Test
    void shouldMakeKeyedDigestsThatDifferFromPlainOnes() {
        byte[] data = TestData.shaStream(1000);
        Digest plain = ChunkDigester.plain().digest(data, 0, data.length);
        Digest keyed = ChunkDigester.keyed(CryptConfig.fromMasterKey(TestData.katMasterKey())).digest(data, 0, data.length);
        // both computed independently with Python's hashlib / hmac
        assertThat(plain.hex()).isEqualTo("d670e1e39bf29a440e2ffdbc99c281503901d4fd58befdaca74bf04a50e89ddb");
        assertThat(keyed.hex()).isEqualTo("471051122b4cc62dcc1749866340516f3cba158111b1af42c70be608337d937d");
    }

    @Test
    void shouldGiveTheZeroDigestToZeroChunksWhateverTheKeyOrLength() {
        CryptConfig c = CryptConfig.fromMasterKey(TestData.katMasterKey());
        for (int len : new int[] {1, 4096, 65536, 4 << 20}) {
            byte[] zeros = new byte[len];
            assertThat(ChunkDigester.plain().digest(zeros, 0, len)).isEqualTo(Digest.ZERO);
            assertThat(ChunkDigester.keyed(c).digest(zeros, 0, len)).isEqualTo(Digest.ZERO);
        }
        byte[] almost = new byte[4 << 20];
        almost[almost.length - 1] = 1;
        assertThat(ChunkDigester.plain().digest(almost, 0, almost.length)).isNotEqualTo(Digest.ZERO);
    }

    @Test
    void shouldRejectShortMasterKey() {
        assertThatThrownBy(() -> CryptConfig.fromMasterKey(new byte[16]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 bytes");
    }
}
