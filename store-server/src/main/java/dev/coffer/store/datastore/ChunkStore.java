package dev.coffer.store.datastore;

import dev.coffer.chunker.Digest;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Where chunk blobs live, named by digest: a directory tree, memory, later object storage.
 *
 * <p>This is only the blob storage. What the datastore knows about each chunk (crypt mode, whether
 * its plaintext was verified, GC epochs, the bad flag) lives in the RocksDB index, and the rules
 * that combine the two (no poisoning, GC's locks) live in {@code Datastore}. Every implementation
 * passes {@code ChunkStoreContract}. Contracts, for every method:
 * <ul>
 *   <li>{@link #put} is atomic: a reader sees the old blob, the new blob or nothing, never a part;
 *       when it returns the blob is visible to {@link #get} (durable only after {@link #sync} or at
 *       the {@code file} sync level);</li>
 *   <li>{@link #get} of a missing digest returns null (never an exception), so a caller can tell
 *       "absent" from an I/O failure;</li>
 *   <li>{@link #quarantine} moves a blob out of the way (a file store renames it to {@code *.bad})
 *       so it is never served again but is kept for inspection;</li>
 *   <li>{@link #forEach} visits every stored digest once, quarantined ones excluded.</li>
 * </ul>
 * Implementations are thread-safe.
 */
public interface ChunkStore {

    /** Stores {@code blob} under {@code digest}, atomically replacing any blob there. */
    void put(Digest digest, byte[] blob) throws IOException;

    /** The stored blob, or null when there is none. */
    byte[] get(Digest digest) throws IOException;

    /** The stored blob's length, or -1 when there is none. */
    long size(Digest digest) throws IOException;

    /** Removes the blob; false when there was none. */
    boolean delete(Digest digest) throws IOException;

    /** Moves the blob aside as bad; false when there was none. */
    boolean quarantine(Digest digest) throws IOException;

    /** Calls {@code visitor} once for every stored (not quarantined) digest, in no particular order. */
    void forEach(Consumer<Digest> visitor) throws IOException;

    /** Makes every completed {@link #put} durable. */
    void sync() throws IOException;
}
