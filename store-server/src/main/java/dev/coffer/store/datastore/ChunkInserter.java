package dev.coffer.store.datastore;

import dev.coffer.chunker.BlobKind;
import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FileFormats;
import dev.coffer.chunker.FormatException;
import java.io.IOException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Stores uploaded chunks under the datastore's rules: nothing unchecked, no poisoning, healing.
 *
 * <p>Every upload is checked before it is stored: magic and CRC always, and for plaintext blobs the
 * full decode and the digest, so a verified blob is certainly the chunk its name says. An encrypted
 * blob cannot be checked beyond CRC and size, so it is recorded as unverified and (rule 5) never
 * replaces a verified blob with the same digest — otherwise anyone who knows a chunk's plain
 * SHA-256 could upload garbage under it and every later backup would reference the garbage. A
 * verified upload does replace an unverified or bad blob (rule 6: bad chunks heal).
 *
 * <p>Insert and touch take a striped per-digest lock that GC's sweep will take too, so a sweep can
 * never delete a chunk between a session's decision to reuse it and its touch (rule 2).
 */
public final class ChunkInserter {

    /** What an insert did. */
    public enum Outcome {
        /** the digest was new: blob and entry stored */
        STORED,
        /** a blob existed but was bad, missing or unverified, and the upload replaced it */
        REPLACED,
        /** an equal or better blob was already stored: kept, entry touched */
        KEPT
    }

    private static final int STRIPES = 1024;

    private final ChunkStore chunks;
    private final DatastoreDb db;
    private final ReentrantLock[] locks = new ReentrantLock[STRIPES];
    private final ThreadLocal<ChunkCodec> plainCodec = ThreadLocal.withInitial(() -> ChunkCodec.create(null));
    /** Where each worker thread decodes uploads to check them: the plaintext is only hashed, never kept. */
    private final ThreadLocal<byte[]> checkBuffer = ThreadLocal.withInitial(() -> new byte[FileFormats.MAX_CHUNK_SIZE]);

    public ChunkInserter(ChunkStore chunks, DatastoreDb db) {
        this.chunks = chunks;
        this.db = db;
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    /** The lock guarding {@code digest}'s file and entry; GC's sweep takes the same one. */
    public ReentrantLock lockFor(Digest digest) {
        return locks[Math.floorMod(digest.hashCode(), STRIPES)];
    }

    /**
     * Checks and stores one uploaded chunk.
     *
     * @param plainLength the chunk's plaintext length as the client announces it
     * @param encryptedSession whether the uploading session is encrypted: its blobs must be
     *     encrypted, a plain session's blobs must not be
     * @param epoch the current GC epoch
     * @throws FormatException when the blob is damaged, of the wrong crypt mode, or (plaintext) not
     *     the chunk its digest names; nothing is stored
     */
    public Outcome insert(Digest digest, byte[] blob, int plainLength, boolean encryptedSession, long epoch) throws IOException {
        if (digest.isZero()) {
            throw new FormatException.Malformed("chunk " + digest.shortHex(), "the zero digest is never uploaded");
        }
        String where = "chunk " + digest.shortHex();
        BlobKind kind = ChunkCodec.check(blob, where);
        if (kind.encrypted() != encryptedSession) {
            throw new FormatException.Malformed(where, encryptedSession
                    ? "an encrypted session uploaded an unencrypted blob" : "an unencrypted session uploaded an encrypted blob");
        }
        if (!kind.encrypted()) {
            plainCodec.get().decodeInto(blob, digest, plainLength, checkBuffer.get()); // throws DigestMismatch, SizeMismatch, ...
        }
        boolean verified = !kind.encrypted();
        ReentrantLock lock = lockFor(digest);
        lock.lock();
        try {
            ChunkMeta existing = db.getChunk(digest);
            if (existing == null) {
                chunks.put(digest, blob);
                db.putChunk(digest, new ChunkMeta(blob.length, kind.encrypted(), verified, false, epoch, epoch));
                return Outcome.STORED;
            }
            boolean fileMissing = chunks.size(digest) < 0;
            boolean better = existing.bad() || fileMissing || (verified && !existing.verified());
            if (better) {
                chunks.put(digest, blob);
                if (existing.bad()) {
                    db.delete(DatastoreDb.Cf.META, badKey(digest));
                }
                db.putChunk(digest, new ChunkMeta(blob.length, kind.encrypted(), verified, false,
                        existing.insertEpoch(), Math.max(epoch, existing.touchEpoch())));
                return Outcome.REPLACED;
            }
            // same quality, or the upload is unverifiable and the stored blob verified: keep the stored one
            if (existing.touchEpoch() < epoch) {
                db.putChunk(digest, existing.touched(epoch));
            }
            return Outcome.KEPT;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Flags a chunk bad (rule 6): its blob is moved aside as {@code *.bad}, its entry flagged, and
     * its digest listed so sessions whose base uses it are told to upload it again.
     *
     * @return false when the datastore has no entry for the digest
     */
    public boolean markBad(Digest digest) throws IOException {
        ReentrantLock lock = lockFor(digest);
        lock.lock();
        try {
            ChunkMeta m = db.getChunk(digest);
            if (m == null) {
                return false;
            }
            chunks.quarantine(digest);
            db.write(b -> {
                b.put(DatastoreDb.Cf.CHUNKS, digest.toBytes(), m.withBad(true).encode());
                b.put(DatastoreDb.Cf.META, badKey(digest), new byte[0]);
            });
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Every digest currently flagged bad (a small set: bad chunks are rare). */
    public java.util.Set<Digest> badDigests() throws IOException {
        java.util.Set<Digest> out = new java.util.HashSet<>();
        db.scan(DatastoreDb.Cf.META, BAD_PREFIX, (k, v) -> out.add(Digest.of(k, BAD_PREFIX.length)));
        return out;
    }

    private static final byte[] BAD_PREFIX = "bad/".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static byte[] badKey(Digest d) {
        byte[] k = java.util.Arrays.copyOf(BAD_PREFIX, BAD_PREFIX.length + Digest.LENGTH);
        d.copyTo(k, BAD_PREFIX.length);
        return k;
    }

    /**
     * Records that a session references an already-stored chunk (dedup-scope datastore), so a GC
     * that started before it will not sweep it.
     *
     * @return the entry, or null when the chunk is absent or bad (the session must upload it)
     */
    public ChunkMeta touch(Digest digest, long epoch) throws IOException {
        ReentrantLock lock = lockFor(digest);
        lock.lock();
        try {
            ChunkMeta m = db.getChunk(digest);
            if (m == null || m.bad()) {
                return null;
            }
            if (m.touchEpoch() < epoch) {
                m = m.touched(epoch);
                db.putChunk(digest, m);
            }
            return m;
        } finally {
            lock.unlock();
        }
    }
}
