package dev.coffer.store.datastore;

import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Reader sessions: a restore, {@code serve}, export or sync reading one restore point.
 *
 * <p>A reader holds a share lock on its restore point (rule 3: prune skips it, GC keeps its chunks)
 * and may fetch only chunks that restore point references: a token allowed to read one group must
 * not be able to fetch another group's chunks by guessing digests. The referenced digests are
 * recorded in RocksDB when the reader opens (one sequential pass over the indexes, no in-memory
 * set), so each chunk request is one lookup. Idle readers expire like backup sessions.
 */
public final class ReaderSessions {

    /** One open reader. */
    public final class Reader {
        private final String id;
        private final byte[] idBytes;
        private final SnapshotId snapshot;
        private final String owner;
        private final SnapshotLocks.Lease lease;
        private volatile long lastSeen = System.nanoTime();
        private volatile boolean closed;

        private Reader(String id, SnapshotId snapshot, String owner, SnapshotLocks.Lease lease) {
            this.id = id;
            this.idBytes = HexFormat.of().parseHex(id);
            this.snapshot = snapshot;
            this.owner = owner;
            this.lease = lease;
        }

        public String id() {
            return id;
        }

        public SnapshotId snapshot() {
            return snapshot;
        }

        /** The token id that opened it: only that token may use it. */
        public String owner() {
            return owner;
        }

        /**
         * The stored blob of a chunk this restore point references.
         *
         * @throws StoreException NOT_FOUND when the restore point does not reference it, or when the
         *     blob is missing or quarantined (the message says which)
         */
        public byte[] chunk(Digest digest) throws IOException, StoreException {
            lastSeen = System.nanoTime();
            if (closed) {
                throw StoreException.notFound("no-such-reader", "reader " + id + " has ended");
            }
            if (db().get(DatastoreDb.Cf.SESSIONS, key(digest)) == null) {
                throw StoreException.notFound("no-such-chunk", "restore point " + snapshot + " does not reference chunk " + digest.hex());
            }
            byte[] blob = ds.chunks().get(digest);
            if (blob == null) {
                ChunkMeta m = db().getChunk(digest);
                throw StoreException.notFound("chunk-unavailable", "chunk " + digest.hex() + " of " + snapshot
                        + (m != null && m.bad() ? " is quarantined as bad: the next backup of its group heals it" : " is missing from the datastore"));
            }
            return blob;
        }

        void touch() {
            lastSeen = System.nanoTime();
        }

        /** Ends the reader: releases its lock and its records. */
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                byte[] from = prefix();
                byte[] to = from.clone();
                to[0]++;
                db().deleteRange(DatastoreDb.Cf.SESSIONS, from, to);
            } finally {
                lease.close();
                synchronized (ReaderSessions.this) {
                    readers.remove(id);
                }
            }
        }

        private byte[] prefix() {
            byte[] k = new byte[1 + idBytes.length];
            k[0] = 'r';
            System.arraycopy(idBytes, 0, k, 1, idBytes.length);
            return k;
        }

        private byte[] key(Digest d) {
            byte[] p = prefix();
            byte[] k = java.util.Arrays.copyOf(p, p.length + Digest.LENGTH);
            d.copyTo(k, p.length);
            return k;
        }
    }

    private final Datastore ds;
    private final Catalog catalog;
    private final SnapshotLocks locks;
    private final Duration lease;
    private final Map<String, Reader> readers = new HashMap<>();
    private final SecureRandom random = new SecureRandom();

    public ReaderSessions(Datastore ds, Catalog catalog, SnapshotLocks locks, Duration lease) {
        this.ds = ds;
        this.catalog = catalog;
        this.locks = locks;
        this.lease = lease;
    }

    private DatastoreDb db() {
        return ds.db();
    }

    /**
     * Opens a reader on a published restore point.
     *
     * @param owner the token id opening it; the API lets no other token use the reader
     * @throws StoreException NOT_FOUND when it does not exist
     */
    public Reader open(SnapshotId snapshot, String owner) throws IOException, StoreException {
        SnapshotLocks.Lease l = locks.share(snapshot);
        try {
            Manifest m = catalog.manifest(snapshot); // after the lock: prune cannot remove it now
            byte[] id = new byte[16];
            random.nextBytes(id);
            Reader r = new Reader(HexFormat.of().formatHex(id), snapshot, owner, l);
            for (ManifestDisk d : m.disks()) {
                try (FixedIndexReader idx = FixedIndexReader.open(catalog.dir(snapshot).resolve(d.index().file()))) {
                    List<Digest> batch = new ArrayList<>(1024);
                    idx.forEach((i, digest) -> {
                        if (!digest.isZero()) {
                            batch.add(digest);
                        }
                        if (batch.size() == 1024) {
                            flush(r, batch);
                        }
                    });
                    flush(r, batch);
                }
            }
            synchronized (this) {
                readers.put(r.id, r);
            }
            return r;
        } catch (IOException | StoreException | RuntimeException e) {
            l.close();
            throw e;
        }
    }

    private void flush(Reader r, List<Digest> batch) throws IOException {
        if (batch.isEmpty()) {
            return;
        }
        db().write(b -> {
            for (Digest d : batch) {
                b.put(DatastoreDb.Cf.SESSIONS, r.key(d), new byte[0]);
            }
        });
        batch.clear();
    }

    /** How long a reader lives without a request. */
    public Duration lease() {
        return lease;
    }

    /** The open reader {@code id}, its lease renewed. */
    public synchronized Reader get(String id) throws StoreException {
        Reader r = readers.get(id);
        if (r == null) {
            throw StoreException.notFound("no-such-reader", "reader " + id + " does not exist or has expired");
        }
        r.touch();
        return r;
    }

    /** Closes readers idle longer than the lease; returns how many. */
    public int expireIdle() throws IOException {
        List<Reader> idle = new ArrayList<>();
        synchronized (this) {
            for (Reader r : readers.values()) {
                if (System.nanoTime() - r.lastSeen > lease.toNanos()) {
                    idle.add(r);
                }
            }
        }
        for (Reader r : idle) {
            r.close();
        }
        return idle.size();
    }

    /** Closes every reader (shutdown). */
    public void closeAll() throws IOException {
        List<Reader> all;
        synchronized (this) {
            all = new ArrayList<>(readers.values());
        }
        for (Reader r : all) {
            r.close();
        }
    }
}
