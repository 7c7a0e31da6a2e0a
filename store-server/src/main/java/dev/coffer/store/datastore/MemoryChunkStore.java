package dev.coffer.store.datastore;

import dev.coffer.chunker.Digest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Chunk blobs in memory. Only for the store contract tests and tests of code above the chunk store:
 * it proves the contract is about behaviour, not about files.
 */
public final class MemoryChunkStore implements ChunkStore {

    private final Map<Digest, byte[]> blobs = new ConcurrentHashMap<>();
    private final Map<Digest, byte[]> bad = new ConcurrentHashMap<>();

    @Override
    public void put(Digest digest, byte[] blob) {
        blobs.put(digest, blob.clone());
    }

    @Override
    public byte[] get(Digest digest) {
        byte[] b = blobs.get(digest);
        return b == null ? null : b.clone();
    }

    @Override
    public long size(Digest digest) {
        byte[] b = blobs.get(digest);
        return b == null ? -1 : b.length;
    }

    @Override
    public boolean delete(Digest digest) {
        return blobs.remove(digest) != null;
    }

    @Override
    public boolean quarantine(Digest digest) {
        byte[] b = blobs.remove(digest);
        if (b == null) {
            return false;
        }
        bad.put(digest, b);
        return true;
    }

    @Override
    public void forEach(Consumer<Digest> visitor) {
        blobs.keySet().forEach(visitor);
    }

    @Override
    public void sync() {
        // memory is as durable as it gets
    }
}
