package dev.coffer.agent.bench;

import dev.coffer.chunker.ChunkDigester;
import java.util.function.Supplier;

/**
 * Names a chunk with {@link ChunkDigester}, plain SHA-256 or keyed HMAC-SHA256, exactly as a backup
 * does, including the all-zero short cut (an all-zero chunk is recognised, not hashed).
 */
final class DigestWorkload implements Workload {

    private final byte[] chunk;
    private final Supplier<ChunkDigester> digesters;

    DigestWorkload(byte[] chunk, Supplier<ChunkDigester> digesters) {
        this.chunk = chunk;
        this.digesters = digesters;
    }

    @Override
    public Worker newWorker() {
        ChunkDigester digester = digesters.get();
        return () -> digester.digest(chunk, 0, chunk.length).hashCode();
    }
}
