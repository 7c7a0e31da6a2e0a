package dev.coffer.store.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.chunker.Digest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link ChunkStore} promises; each implementation's test extends this
 * (restic's backend suite does the same for its backends).
 */
abstract class ChunkStoreContract {

    /** A fresh, empty store. */
    abstract ChunkStore newStore() throws Exception;

    static Digest digest(long seed) {
        byte[] b = new byte[32];
        new SplittableRandom(seed).nextBytes(b);
        return Digest.of(b);
    }

    static byte[] blob(long seed, int len) {
        byte[] b = new byte[len];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void shouldReturnWhatWasPut() throws Exception {
        ChunkStore s = newStore();
        s.put(digest(1), blob(1, 1000));
        assertThat(s.get(digest(1))).isEqualTo(blob(1, 1000));
        assertThat(s.size(digest(1))).isEqualTo(1000);
    }

    @Test
    void shouldReportAbsenceWithoutException() throws Exception {
        ChunkStore s = newStore();
        assertThat(s.get(digest(2))).isNull();
        assertThat(s.size(digest(2))).isEqualTo(-1);
        assertThat(s.delete(digest(2))).isFalse();
        assertThat(s.quarantine(digest(2))).isFalse();
    }

    @Test
    void shouldReplaceOnPut() throws Exception {
        ChunkStore s = newStore();
        s.put(digest(3), blob(1, 100));
        s.put(digest(3), blob(2, 50));
        assertThat(s.get(digest(3))).isEqualTo(blob(2, 50));
    }

    @Test
    void shouldNotShareTheCallersArray() throws Exception {
        ChunkStore s = newStore();
        byte[] b = blob(4, 10);
        s.put(digest(4), b);
        b[0] ^= 1;
        assertThat(s.get(digest(4))).isEqualTo(blob(4, 10));
    }

    @Test
    void shouldDelete() throws Exception {
        ChunkStore s = newStore();
        s.put(digest(5), blob(5, 10));
        assertThat(s.delete(digest(5))).isTrue();
        assertThat(s.get(digest(5))).isNull();
    }

    @Test
    void shouldHideQuarantinedBlobs() throws Exception {
        ChunkStore s = newStore();
        s.put(digest(6), blob(6, 10));
        s.put(digest(7), blob(7, 10));
        assertThat(s.quarantine(digest(6))).isTrue();
        assertThat(s.get(digest(6))).isNull();
        List<Digest> seen = new ArrayList<>();
        s.forEach(seen::add);
        assertThat(seen).containsExactly(digest(7));
        // a healing upload stores a fresh copy under the same digest
        s.put(digest(6), blob(6, 10));
        assertThat(s.get(digest(6))).isEqualTo(blob(6, 10));
    }

    @Test
    void shouldVisitEveryDigestOnce() throws Exception {
        ChunkStore s = newStore();
        Set<Digest> put = new HashSet<>();
        for (int i = 0; i < 300; i++) {
            s.put(digest(100 + i), blob(i, 1 + i));
            put.add(digest(100 + i));
        }
        List<Digest> seen = new ArrayList<>();
        s.forEach(seen::add);
        assertThat(seen).hasSize(300).containsExactlyInAnyOrderElementsOf(put);
        s.sync();
    }

    @Test
    void shouldNeverExposeAPartialBlobUnderConcurrentPuts() throws Exception {
        ChunkStore s = newStore();
        Digest d = digest(8);
        byte[] a = blob(8, 256 * 1024);
        byte[] b = blob(9, 300 * 1024);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                byte[] mine = i % 2 == 0 ? a : b;
                fs.add(pool.submit(() -> {
                    s.put(d, mine);
                    return null;
                }));
                fs.add(pool.submit(() -> {
                    byte[] got = s.get(d);
                    assertThat(got == null || java.util.Arrays.equals(got, a) || java.util.Arrays.equals(got, b))
                            .as("a reader sees a whole blob or none").isTrue();
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(s.get(d)).satisfiesAnyOf(x -> assertThat(x).isEqualTo(a), x -> assertThat(x).isEqualTo(b));
    }
}
