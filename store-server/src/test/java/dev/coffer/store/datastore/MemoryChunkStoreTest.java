package dev.coffer.store.datastore;

final class MemoryChunkStoreTest extends ChunkStoreContract {
    @Override
    ChunkStore newStore() {
        return new MemoryChunkStore();
    }
}
