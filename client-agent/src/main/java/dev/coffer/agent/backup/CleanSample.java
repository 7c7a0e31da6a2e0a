package dev.coffer.agent.backup;

import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndex;
import dev.coffer.chunker.FixedIndexReader;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

/**
 * The check before a dirty bitmap is trusted: a random sample of chunks the bitmap calls clean is
 * read and hashed, and each digest must equal the base's at the same position. A bitmap that
 * missed a write (started after the base was taken, a bitmap of another checkpoint chain, a disk
 * written while no bitmap was recording) is caught with a probability that grows with the share
 * of clean chunks that really changed; one mismatch is enough to distrust the whole bitmap.
 *
 * <p>The candidates are the clean chunks that are not ZERO-flagged and that the base has, chosen
 * by reservoir sampling in one pass over the source's status (bounded memory: {@code size}
 * indexes), with a seed fixed per run.
 */
final class CleanSample {

    /** At most this many chunks are sampled (DESIGN.md: "a random sample of clean chunks"). */
    static final int SIZE = 8;

    /** What the sample found. */
    record Outcome(int sampled, int mismatches, long firstMismatch) {
        boolean matches() {
            return mismatches == 0;
        }
    }

    private CleanSample() {}

    static Outcome run(ChunkSource source, FixedIndexReader base, CryptConfig crypt, int chunkSize, long seed, DiskStats stats)
            throws IOException {
        long size = source.size();
        long chunks = Math.min(FixedIndex.chunkCount(size, chunkSize), base.chunkCount());
        Random random = new Random(seed);
        long[] picked = new long[SIZE];
        long seen = 0;
        for (long i = 0; i < chunks; i++) {
            if (source.isZeroChunk(i) || !source.isClean(i)) {
                continue;
            }
            if (seen < SIZE) {
                picked[(int) seen] = i;
            } else {
                long j = (long) (random.nextDouble() * (seen + 1));
                if (j < SIZE) {
                    picked[(int) j] = i;
                }
            }
            seen++;
        }
        int n = (int) Math.min(SIZE, seen);
        long[] sample = Arrays.copyOf(picked, n);
        Arrays.sort(sample);
        int mismatches = 0;
        long first = -1;
        byte[] buf = new byte[chunkSize];
        try (ChunkCodec codec = ChunkCodec.create(crypt)) {
            for (long i : sample) {
                int len = FixedIndex.chunkLength(size, chunkSize, i);
                int got = source.readChunk(i, buf);
                if (got != len) {
                    throw new IOException("read " + got + " bytes of chunk " + i + " where " + len + " were expected");
                }
                stats.readBytes.add(len);
                stats.sampledBytes.add(len);
                if (!codec.digest(buf, 0, len).equals(base.digest(i))) {
                    mismatches++;
                    if (first < 0) {
                        first = i;
                    }
                }
            }
        }
        return new Outcome(n, mismatches, first);
    }
}
