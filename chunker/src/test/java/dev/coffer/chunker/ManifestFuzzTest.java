package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Feeds damaged and random documents to {@link Manifest#parse}: it must reject them with a
 * {@link FormatException} or return a manifest whose protected part is exactly the one that was
 * signed (the unprotected part is the server's and may legitimately differ), never anything else.
 */
final class ManifestFuzzTest {

    private static final Manifest SIGNED = ManifestTest.katBuilder().sign(ManifestTest.KEY);
    private static final Manifest PLAIN = ManifestTest.katBuilder().sign(null);
    private static final byte[] SIGNED_BYTES = SIGNED.toBytes();
    private static final byte[] PLAIN_BYTES = PLAIN.toBytes();

    record Mutation(double where, int kind, byte value) {}

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        // JSON's structural bytes are where parsers go wrong; mix them with arbitrary bytes
        Arbitrary<Byte> value = Arbitraries.oneOf(Arbitraries.bytes(),
                Arbitraries.chars().with("{}[]\",:0-9.eEtfn\\ u".toCharArray()).map(c -> (byte) c.charValue()));
        Arbitrary<Mutation> one = Combinators.combine(Arbitraries.doubles().between(0, 1),
                Arbitraries.integers().between(0, 2), value).as(Mutation::new);
        return one.list().ofMinSize(1).ofMaxSize(4);
    }

    /** Kind 0 replaces a byte, 1 inserts one, 2 deletes one. */
    static byte[] apply(byte[] valid, List<Mutation> mutations) {
        byte[] b = valid.clone();
        for (Mutation m : mutations) {
            int pos = (int) Math.min(b.length - 1, m.where() * b.length);
            b = switch (m.kind()) {
                case 0 -> {
                    b[pos] = m.value();
                    yield b;
                }
                case 1 -> {
                    byte[] out = new byte[b.length + 1];
                    System.arraycopy(b, 0, out, 0, pos);
                    out[pos] = m.value();
                    System.arraycopy(b, pos, out, pos + 1, b.length - pos);
                    yield out;
                }
                default -> {
                    byte[] out = new byte[b.length - 1];
                    System.arraycopy(b, 0, out, 0, pos);
                    System.arraycopy(b, pos + 1, out, pos, b.length - pos - 1);
                    yield out;
                }
            };
        }
        return b;
    }

    @Property
    void shouldRejectOrKeepSignedContentAfterMutation(@ForAll("mutations") List<Mutation> mutations) {
        check(apply(SIGNED_BYTES, mutations), ManifestTest.KEY, SIGNED);
    }

    @Property
    void shouldRejectOrKeepChecksummedContentAfterMutation(@ForAll("mutations") List<Mutation> mutations) {
        check(apply(PLAIN_BYTES, mutations), null, PLAIN);
    }

    @Property
    void shouldRejectRandomBytes(@ForAll("randomDocuments") byte[] bytes) {
        check(bytes, ManifestTest.KEY, null);
    }

    @Provide
    Arbitrary<byte[]> randomDocuments() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(400);
        Arbitrary<byte[]> jsonish = Arbitraries.strings().withChars("{}[]\":,0123456789-.eE truefalsn\\u")
                .ofMaxLength(200).map(s -> s.getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> prefix = Arbitraries.integers().between(0, SIGNED_BYTES.length - 1)
                .map(n -> Arrays.copyOf(SIGNED_BYTES, n));
        return Arbitraries.oneOf(random, jsonish, prefix);
    }

    private static void check(byte[] bytes, CryptConfig key, Manifest original) {
        Manifest parsed;
        try {
            parsed = Manifest.parse(bytes, "fuzz", key);
        } catch (FormatException expected) {
            assertThat(expected.getMessage()).startsWith("fuzz");
            return;
        }
        assertThat(original).as("random bytes parsed as a manifest").isNotNull();
        assertThat(parsed.protectedBytes()).isEqualTo(original.protectedBytes());
        assertThat(parsed.signatureVerified()).isEqualTo(original.signatureVerified());
        assertThat(parsed.disks()).isEqualTo(original.disks());
        // whatever parsed must serialize to something that parses to the same manifest
        try {
            assertThat(Manifest.parse(parsed.toBytes(), "again", key)).isEqualTo(parsed);
        } catch (FormatException e) {
            throw new AssertionError("a parsed manifest did not re-parse", e);
        }
    }
}
