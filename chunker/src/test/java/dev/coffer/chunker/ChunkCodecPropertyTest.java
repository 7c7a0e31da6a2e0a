package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Fuzzes the blob decoder: whatever the bytes, it either returns exactly the original chunk or
 * throws a {@link FormatException}; any other exception (an overflow, an NPE, zstd's own) is a bug.
 * Tries come from {@code jqwik.tries.default} (more with {@code -Plong}).
 */
final class ChunkCodecPropertyTest {

    private static final CryptConfig KEY = CryptConfig.fromMasterKey(TestData.katMasterKey());

    /** A valid blob of a random kind, and a list of (position, xor) mutations to apply. */
    record Case(byte[] data, boolean encrypted, int[] positions, byte[] flips, boolean fixCrc, int cut) {}

    @Provide
    Arbitrary<Case> mutatedBlobs() {
        Arbitrary<byte[]> data = Arbitraries.oneOf(
                Arbitraries.integers().between(1, 20000).map(n -> TestData.text(n, n)),
                Arbitraries.integers().between(1, 20000).map(n -> TestData.random(n, n)));
        Arbitrary<int[]> positions = Arbitraries.integers().between(0, Integer.MAX_VALUE).array(int[].class).ofMinSize(0).ofMaxSize(4);
        Arbitrary<byte[]> flips = Arbitraries.bytes().filter(b -> b != 0).array(byte[].class).ofSize(4);
        return Combinators.combine(data, Arbitraries.of(true, false), positions, flips, Arbitraries.of(true, false),
                Arbitraries.integers().between(-1, 64)).as(Case::new);
    }

    @Property
    void decoderReturnsTheChunkOrThrowsFormatException(@ForAll("mutatedBlobs") Case c) {
        byte[] data = c.data();
        if (ChunkDigester.isAllZero(data, 0, data.length)) {
            return;
        }
        CryptConfig key = c.encrypted() ? KEY : null;
        byte[] blob = ChunkCodecTest.encode(key, data);
        boolean changed = false;
        for (int i = 0; i < c.positions().length; i++) {
            blob[c.positions()[i] % blob.length] ^= c.flips()[i];
            changed = true;
        }
        if (c.cut() >= 0 && c.cut() < blob.length) {
            blob = java.util.Arrays.copyOf(blob, blob.length - c.cut() - 1);
            changed = true;
        }
        if (c.fixCrc() && blob.length >= 12) {
            ChunkCodecTest.fixCrc(blob);
        }
        try (ChunkCodec codec = ChunkCodec.create(key)) {
            Digest d = codec.digest(data, 0, data.length);
            try {
                byte[] back = codec.decode(blob, d, data.length);
                assertThat(back).isEqualTo(data);
            } catch (FormatException expected) {
                assertThat(changed).as("an unchanged blob must decode").isTrue();
                assertThat(expected.getMessage()).startsWith("chunk " + d.shortHex() + ": ");
            }
        }
    }

    @Property
    void decoderRejectsRandomBytesWithFormatException(
            @ForAll @Size(max = 200) byte[] junk, @ForAll boolean encrypted, @ForAll @IntRange(min = 1, max = 70000) int len,
            @ForAll boolean realMagic, @ForAll @IntRange(min = 0, max = 3) int kind) {
        byte[] blob = junk.clone();
        if (realMagic && blob.length >= 12) {
            System.arraycopy(BlobKind.values()[kind].magic(), 0, blob, 0, 8);
            ChunkCodecTest.fixCrc(blob);
        }
        try (ChunkCodec codec = ChunkCodec.create(encrypted ? KEY : null)) {
            try {
                codec.decode(blob, Digest.of(TestData.random(32, len)), len);
                throw new AssertionError("random bytes decoded to a chunk with a random digest");
            } catch (FormatException expected) {
                assertThat(expected.where()).startsWith("chunk ");
            }
        }
    }
}
