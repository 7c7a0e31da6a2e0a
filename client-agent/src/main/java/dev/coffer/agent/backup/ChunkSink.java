package dev.coffer.agent.backup;

import dev.coffer.chunker.Digest;
import dev.coffer.store.api.StoreClient;
import java.io.IOException;
import java.util.List;

/**
 * Where a backup's new chunks go. The store's backup session in a real backup; a sink that keeps
 * nothing for {@code coffer bench --source}, which measures how fast this host reads, hashes and
 * compresses a disk with the store taken out of the picture (the figure a slow backup is first
 * compared with).
 */
public interface ChunkSink {

    /**
     * Stores one encoded chunk; the blob is {@code blob[0, blobLength)} and may be reused once this returns.
     *
     * @return true when the chunk was new to the store (false when it already held it)
     */
    boolean upload(Digest digest, int plainLength, byte[] blob, int blobLength) throws IOException;

    /** Whether the store already holds {@code digest} (asked only under {@code dedup-scope: datastore}). */
    boolean known(Digest digest) throws IOException;

    /** The chunks of backup session {@code session} on {@code client}. */
    static ChunkSink session(StoreClient client, String session) {
        return new ChunkSink() {
            @Override
            public boolean upload(Digest digest, int plainLength, byte[] blob, int blobLength) throws IOException {
                return !"kept".equals(client.uploadChunk(session, digest, plainLength, blob, blobLength).outcome());
            }

            @Override
            public boolean known(Digest digest) throws IOException {
                return client.known(session, List.of(digest)).getFirst();
            }
        };
    }

    /** A sink that keeps nothing and knows nothing: every new chunk is encoded, then dropped. */
    static ChunkSink discarding() {
        return new ChunkSink() {
            @Override
            public boolean upload(Digest digest, int plainLength, byte[] blob, int blobLength) {
                return true;
            }

            @Override
            public boolean known(Digest digest) {
                return false;
            }
        };
    }
}
