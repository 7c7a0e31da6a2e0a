package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Feeds damaged and random files to {@link FixedIndexReader#open}: it must either reject them with a
 * {@link FormatException} or read exactly the index that was written, never anything else.
 */
final class FixedIndexFuzzTest {

    private static final int CHUNK = FileFormats.MIN_CHUNK_SIZE;
    private static final UUID UUID_ = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    private static final Instant CTIME = Instant.ofEpochSecond(1_700_000_000L);
    private static final long IMAGE_SIZE = 4L * CHUNK + 7;

    private static Path dir;
    private static byte[] valid;
    private static List<Digest> digests;

    @BeforeContainer
    static void writeValidIndex() throws IOException {
        dir = Files.createTempDirectory("fidx-fuzz");
        digests = FixedIndexTest.randomDigests(42, 5);
        Path p = dir.resolve("valid.fidx");
        FixedIndexTest.write(p, UUID_, CTIME, IMAGE_SIZE, CHUNK, digests);
        valid = Files.readAllBytes(p);
        Files.delete(p);
    }

    @AfterContainer
    static void removeDir() throws IOException {
        Files.deleteIfExists(dir);
    }

    record Mutation(int position, byte value) {}

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        Arbitrary<Integer> anywhere = Arbitraries.integers().between(0, valid.length - 1);
        // bias towards the header's fields and the digests, where a reader could be fooled
        Arbitrary<Integer> fields = Arbitraries.integers().between(0, FixedIndexHeader.RESERVED_OFFSET + 8);
        Arbitrary<Integer> tail = Arbitraries.integers().between(FileFormats.INDEX_HEADER_CRC_OFFSET, valid.length - 1);
        Arbitrary<Integer> position = Arbitraries.frequencyOf(
                Tuple.of(1, anywhere), Tuple.of(2, fields), Tuple.of(2, tail));
        Arbitrary<Mutation> one = Combinators.combine(position, Arbitraries.bytes()).as(Mutation::new);
        return one.list().ofMinSize(1).ofMaxSize(4);
    }

    @Property
    void shouldRejectOrReadExactlyAfterMutation(@ForAll("mutations") List<Mutation> mutations) throws IOException {
        byte[] bytes = valid.clone();
        for (Mutation m : mutations) {
            bytes[m.position()] = m.value();
        }
        check(bytes);
    }

    @Property
    void shouldRejectOrReadExactlyAfterResize(@ForAll("lengths") int length) throws IOException {
        byte[] bytes = Arrays.copyOf(valid, length); // shorter, or padded with zeros
        check(bytes);
    }

    @Provide
    Arbitrary<Integer> lengths() {
        return Arbitraries.integers().between(0, valid.length + 2 * Digest.LENGTH).filter(n -> n != valid.length);
    }

    @Property
    void shouldRejectRandomBytes(@ForAll("randomFiles") byte[] bytes) throws IOException {
        check(bytes);
    }

    @Provide
    Arbitrary<byte[]> randomFiles() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(5000);
        // random bytes behind a valid magic get past the first check
        Arbitrary<byte[]> withMagic = random.map(b -> {
            byte[] out = Arrays.copyOf(valid, Math.max(8, b.length));
            System.arraycopy(b, 0, out, 8, Math.max(0, b.length - 8));
            return out;
        });
        return Arbitraries.oneOf(random, withMagic);
    }

    private static void check(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "case", ".fidx");
        try {
            Files.write(p, bytes);
            FixedIndexReader r;
            try {
                r = FixedIndexReader.open(p);
            } catch (FormatException expected) {
                assertThat(expected.getMessage()).contains(p.toString());
                return;
            }
            try (r) {
                assertThat(r.uuid()).isEqualTo(UUID_);
                assertThat(r.ctime()).isEqualTo(CTIME);
                assertThat(r.imageSize()).isEqualTo(IMAGE_SIZE);
                assertThat(r.chunkSize()).isEqualTo(CHUNK);
                List<Digest> read = new ArrayList<>();
                r.forEach((i, d) -> read.add(d));
                assertThat(read).isEqualTo(digests);
                assertThat(bytes).isEqualTo(valid);
            }
        } finally {
            Files.delete(p);
        }
    }
}
