package dev.coffer.agent.backup;

import dev.coffer.chunker.CryptConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * The backup pipeline of one disk — read, zero check, SHA-256, zstd, optional AES-256-GCM — into
 * a {@link ChunkSink#discarding discarding sink}: the same {@link DiskBackup} a backup runs, with
 * the store taken out. Its rate against a raw copy of the same source ({@code nbdcopy … null:})
 * says whether a slow backup is held up by this host's CPU or by the store and the network.
 */
public final class SourceBench {

    /**
     * What one pass did.
     *
     * @param encodedChunks chunks hashed as new and encoded (repeats within the disk are encoded once, as in a backup)
     * @param encodedBytes their encoded size
     */
    public record Result(long size, long readBytes, long zeroBytes, long encodedChunks, long encodedBytes, double durationS) {}

    private SourceBench() {}

    /**
     * Reads every allocated chunk of {@code source} through the pipeline and drops the result.
     *
     * @param crypt a key to encrypt with as well, or null
     * @param workDir where the pass's index is written (and removed)
     */
    public static Result run(ChunkSource source, int chunkSize, CryptConfig crypt, int workers, Path workDir) throws IOException {
        DiskStats stats = new DiskStats();
        Path index = workDir.resolve("coffer-bench-" + java.util.UUID.randomUUID() + ".fidx"); // a fixed index is created, never overwritten
        long started = System.nanoTime();
        try {
            new DiskBackup(ChunkSink.discarding(), crypt, chunkSize, workers, new RecentDigests(65_536), false, n -> {})
                    .run(source, index, null, Set.of(), false, stats);
        } finally {
            Files.deleteIfExists(index);
        }
        return new Result(source.size(), stats.readBytes(), stats.zeroBytes(), stats.uploadedChunks(), stats.uploadedBytes(),
                (System.nanoTime() - started) / 1e9);
    }
}
