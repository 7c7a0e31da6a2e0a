package dev.coffer.store.datastore;

import dev.coffer.chunker.FileFormats;
import java.util.Locale;

/**
 * A datastore's settings. The chunk size is fixed when the datastore is created (every index in it
 * uses it); the others may change between server starts.
 *
 * @param chunkSize a power of two from 64 KiB to 4 MiB
 * @param dedupScope which digests a session may reference without uploading (safety rule 4)
 * @param syncLevel how hard writes are made durable
 * @param blockCacheBytes RocksDB's block cache
 */
public record DatastoreOptions(int chunkSize, DedupScope dedupScope, SyncLevel syncLevel, long blockCacheBytes) {

    /** Safety rule 4: what a session may reference without uploading it. */
    public enum DedupScope {
        /** only its base restore point's digests and its own uploads: leaks nothing across groups (PBS's rule). */
        SESSION,
        /** any digest the datastore holds: for trusted single-tenant stores, saves first-backup uploads of clones. */
        DATASTORE;

        public static DedupScope parse(String text) {
            for (DedupScope s : values()) {
                if (s.name().toLowerCase(Locale.ROOT).equals(text)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("dedup-scope '" + text + "' is not one of session, datastore");
        }
    }

    /** 1 MiB chunks ({@link FileFormats#DEFAULT_CHUNK_SIZE}), session dedup scope, filesystem sync level, 64 MiB block cache. */
    public static final DatastoreOptions DEFAULT =
            new DatastoreOptions(FileFormats.DEFAULT_CHUNK_SIZE, DedupScope.SESSION, SyncLevel.FILESYSTEM, 64L << 20);

    public DatastoreOptions {
        checkChunkSize(chunkSize);
        if (dedupScope == null || syncLevel == null) {
            throw new NullPointerException("dedupScope and syncLevel");
        }
        if (blockCacheBytes < 1 << 20) {
            throw new IllegalArgumentException("block cache of " + blockCacheBytes + " bytes is below 1 MiB");
        }
    }

    /** Validates a chunk size: a power of two from 64 KiB to 4 MiB. */
    public static int checkChunkSize(int chunkSize) {
        if (Integer.bitCount(chunkSize) != 1 || chunkSize < FileFormats.MIN_CHUNK_SIZE || chunkSize > FileFormats.MAX_CHUNK_SIZE) {
            throw new IllegalArgumentException("chunk size " + chunkSize + " is not a power of two from 64 KiB to 4 MiB");
        }
        return chunkSize;
    }

    public DatastoreOptions withChunkSize(int size) {
        return new DatastoreOptions(size, dedupScope, syncLevel, blockCacheBytes);
    }

    public DatastoreOptions withDedupScope(DedupScope scope) {
        return new DatastoreOptions(chunkSize, scope, syncLevel, blockCacheBytes);
    }

    public DatastoreOptions withSyncLevel(SyncLevel level) {
        return new DatastoreOptions(chunkSize, dedupScope, level, blockCacheBytes);
    }
}
