package dev.coffer.agent.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The cache's read-ahead decisions, against a chunk source that records what it was asked for
 * (the store itself is exercised by NbdServerTest and ServeIT; here only the cache's choices count).
 */
final class ChunkCacheTest {

    /** 256 one-KiB chunks, none zero; records every chunk read. */
    private static final class Recording implements ChunkSource {
        final Set<Long> reads = ConcurrentHashMap.newKeySet();

        @Override
        public long size() {
            return 256 * 1024;
        }

        @Override
        public int chunkSize() {
            return 1024;
        }

        @Override
        public boolean isZero(long chunk) {
            return false;
        }

        @Override
        public byte[] read(long chunk) {
            reads.add(chunk);
            byte[] b = new byte[1024];
            b[0] = (byte) chunk;
            return b;
        }
    }

    /** Waits (up to 10 s) until the source was asked for every chunk of {@code want}. */
    private static void awaitReads(Recording source, Set<Long> want) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!source.reads.containsAll(want) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(source.reads).containsAll(want);
    }

    @Test
    void shouldSizeTheCacheByWhatItsChunksReallyOccupy() {
        long heap = 192L << 20; // the launcher's -Xmx192m, 1 MiB G1 regions
        assertThat(ChunkCache.capacityFor(heap, 2L << 20)).as("half the heap of 2 MiB footprints").isEqualTo(48);
        assertThat(ChunkCache.capacityFor(heap, 5L << 20)).isEqualTo(19);
        assertThat(ChunkCache.capacityFor(heap, 65L << 20)).as("at least 4").isEqualTo(4);
        assertThat(ChunkCache.capacityFor(64L << 30, 4112)).as("at most 4096").isEqualTo(4096);
    }

    @Test
    void shouldReadAheadForSeveralInterleavedSequentialStreams() throws Exception {
        Recording source = new Recording();
        try (ChunkCache cache = new ChunkCache(source, 64, 4, 2)) {
            // two readers, each walking its own region, their reads interleaved as nbdcopy's connections do
            for (long i = 0; i < 3; i++) {
                assertThat(cache.read(i)[0]).isEqualTo((byte) i);
                assertThat(cache.read(100 + i)[0]).isEqualTo((byte) (100 + i));
            }
            awaitReads(source, Set.of(3L, 4L, 5L, 6L, 103L, 104L, 105L, 106L));
            assertThat(cache.stats()[0]).isEqualTo(14); // chunks 0-6 and 100-106, each fetched once
        }
    }

    @Test
    void shouldNotReadAheadForRandomReads() throws Exception {
        Recording source = new Recording();
        try (ChunkCache cache = new ChunkCache(source, 64, 4, 2)) {
            for (long c : new long[] {10, 50, 30, 70, 90, 20}) {
                cache.read(c);
            }
            assertThat(source.reads).containsExactlyInAnyOrder(10L, 50L, 30L, 70L, 90L, 20L);
        }
    }

    @Test
    void shouldCapReadAheadSoThatEveryStreamFitsInHalfTheCache() throws Exception {
        Recording source = new Recording();
        // 16 chunks of cache, 4 streams: at most 16 / (2 * 4) = 2 chunks of read-ahead per stream
        try (ChunkCache cache = new ChunkCache(source, 16, 8, 2)) {
            cache.read(0);
            cache.read(1);
            assertThat(cache.stats()[0]).isEqualTo(4); // fetches are started before read returns: 0, 1 and 2-3 ahead
            awaitReads(source, Set.of(2L, 3L));
        }
    }

    @Test
    void shouldServeRepeatedReadsFromTheCache() throws IOException {
        Recording source = new Recording();
        try (ChunkCache cache = new ChunkCache(source, 8, 0, 1)) {
            cache.read(5);
            cache.read(5);
            cache.read(5);
            assertThat(cache.stats()).containsExactly(1, 2); // one fetch, two hits
        }
    }
}
