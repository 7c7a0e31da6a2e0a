package dev.coffer.store.datastore;

/**
 * What the datastore knows about one stored chunk, kept in RocksDB's {@code chunks} column family.
 *
 * @param storedSize the blob's length on disk
 * @param encrypted the blob is ciphertext (the server cannot check its digest)
 * @param verified the server decoded the plaintext and it hashed to the digest (rule 5: a
 *     verified blob is never replaced by an unverifiable one)
 * @param bad verify found the blob corrupt and quarantined it (rule 6: excluded from known sets
 *     until an upload heals it)
 * @param insertEpoch the GC epoch when the blob was stored
 * @param touchEpoch the latest GC epoch in which a session inserted or referenced it, or GC marked it
 */
public record ChunkMeta(int storedSize, boolean encrypted, boolean verified, boolean bad, long insertEpoch, long touchEpoch) {

    /** Encoded length: version (1) | flags (1) | stored size (4) | insert epoch (8) | touch epoch (8). */
    static final int ENCODED_LENGTH = 22;
    private static final byte VERSION = 1;
    private static final int ENCRYPTED = 1;
    private static final int VERIFIED = 2;
    private static final int BAD = 4;

    public ChunkMeta {
        if (storedSize < 0) {
            throw new IllegalArgumentException("stored size " + storedSize);
        }
    }

    /** This entry with the touch epoch raised to {@code epoch} (never lowered). */
    public ChunkMeta touched(long epoch) {
        return epoch <= touchEpoch ? this : new ChunkMeta(storedSize, encrypted, verified, bad, insertEpoch, epoch);
    }

    /** This entry flagged bad (or healed when {@code bad} is false). */
    public ChunkMeta withBad(boolean bad) {
        return new ChunkMeta(storedSize, encrypted, verified, bad, insertEpoch, touchEpoch);
    }

    byte[] encode() {
        byte[] b = new byte[ENCODED_LENGTH];
        b[0] = VERSION;
        b[1] = (byte) ((encrypted ? ENCRYPTED : 0) | (verified ? VERIFIED : 0) | (bad ? BAD : 0));
        java.nio.ByteBuffer.wrap(b, 2, 20).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(storedSize).putLong(insertEpoch).putLong(touchEpoch);
        return b;
    }

    /**
     * Decodes an entry; a newer version's longer entry is read by its known prefix.
     *
     * @throws IllegalStateException when the entry is damaged (RocksDB checksums its blocks, so
     *     this means a bug or a foreign database)
     */
    static ChunkMeta decode(byte[] b) {
        if (b.length < ENCODED_LENGTH || b[0] < VERSION) {
            throw new IllegalStateException("chunk index entry of " + b.length + " bytes, version " + (b.length > 0 ? b[0] : -1)
                    + " is damaged");
        }
        var buf = java.nio.ByteBuffer.wrap(b, 2, 20).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int flags = b[1];
        return new ChunkMeta(buf.getInt(), (flags & ENCRYPTED) != 0, (flags & VERIFIED) != 0, (flags & BAD) != 0,
                buf.getLong(), buf.getLong());
    }
}
