package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Fuzzes the key file decoder: random bytes and mutated key files either parse and unlock to
 * exactly the original key, or fail with a {@link FormatException}; nothing else may escape.
 */
final class KeyFileFuzzTest {

    private static final KeyFile.ScryptParams CHEAP = new KeyFile.ScryptParams(16, 1, 1);
    private static final byte[] MASTER = TestData.katMasterKey();
    private static final byte[] WRAPPED = KeyFile.create(MASTER, "pw".toCharArray(), CHEAP, Instant.EPOCH).toBytes();
    private static final byte[] PLAIN = KeyFile.create(MASTER, null, CHEAP, Instant.EPOCH).toBytes();

    @Property
    void randomBytesAreRejectedWithFormatException(@ForAll @Size(max = 300) byte[] junk) {
        try {
            KeyFile kf = KeyFile.parse(junk, "k");
            kf.unlock("pw".toCharArray(), "k");
            throw new AssertionError("random bytes unlocked a key");
        } catch (FormatException expected) {
            assertThat(expected.where()).isEqualTo("k");
        }
    }

    @Property
    void mutatedKeyFilesUnlockToTheSameKeyOrFail(@ForAll boolean wrapped, @ForAll @IntRange(min = 0, max = 100000) int pos,
            @ForAll @IntRange(min = 1, max = 255) int flip, @ForAll @IntRange(min = 0, max = 3) int extra) {
        byte[] b = (wrapped ? WRAPPED : PLAIN).clone();
        for (int i = 0; i <= extra; i++) {
            int p = (pos + i * 7919) % b.length;
            b[p] ^= (byte) flip;
        }
        try {
            CryptConfig c = KeyFile.parse(b, "k").unlock("pw".toCharArray(), "k");
            assertThat(c).isEqualTo(CryptConfig.fromMasterKey(MASTER));
        } catch (FormatException expected) {
            assertThat(expected.getMessage()).startsWith("k: ");
        }
    }
}
