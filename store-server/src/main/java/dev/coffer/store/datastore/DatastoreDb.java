package dev.coffer.store.datastore;

import dev.coffer.chunker.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The datastore's RocksDB index: the one class that owns RocksDB and every native object it needs.
 *
 * <p>One column family per concern ({@link Cf}), so a scan of one never reads another's keys and
 * each can be tuned or dropped alone. A 10-bit bloom filter makes lookups of absent digests
 * (most lookups during a backup) ~4× faster than RocksDB's default; the block cache is sized by
 * the caller because the default 8 MiB is far too small for a large datastore. The WAL stays on:
 * writes are not synced one by one, but {@link #syncWal()} makes every earlier write durable and
 * is called before a restore point is published. Native objects are closed in reverse order of
 * creation (handles, then the database, then options), as RocksJava requires; {@link #close} is
 * idempotent. Thread-safe, like RocksDB itself.
 */
public final class DatastoreDb implements AutoCloseable {

    /** The column families, by concern. */
    public enum Cf {
        /** datastore-wide values: the GC epoch, format version. */
        META("default"),
        /** digest → {@link ChunkMeta}. */
        CHUNKS("chunks"),
        /** open sessions and their uploaded digests. */
        SESSIONS("sessions"),
        /** a cache of the restore point catalog; the directories are the truth. */
        CATALOG("catalog"),
        /** scheduled job state. */
        JOBS("jobs");

        final String rocksName;

        Cf(String rocksName) {
            this.rocksName = rocksName;
        }
    }

    static {
        RocksDB.loadLibrary();
    }

    private final LRUCache cache;
    private final BloomFilter bloom;
    private final ColumnFamilyOptions cfOptions;
    private final DBOptions dbOptions;
    private final WriteOptions writeOptions;
    private final ReadOptions readOptions;
    private final RocksDB db;
    private final Map<Cf, ColumnFamilyHandle> handles = new EnumMap<>(Cf.class);
    private volatile boolean closed;

    private DatastoreDb(Path dir, long blockCacheBytes) throws RocksDBException {
        cache = new LRUCache(blockCacheBytes);
        bloom = new BloomFilter(10, false);
        cfOptions = new ColumnFamilyOptions()
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(cache).setFilterPolicy(bloom))
                .optimizeLevelStyleCompaction();
        dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setKeepLogFileNum(5);
        writeOptions = new WriteOptions();
        readOptions = new ReadOptions();
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (Cf cf : Cf.values()) {
            descriptors.add(new ColumnFamilyDescriptor(cf.rocksName.getBytes(java.nio.charset.StandardCharsets.US_ASCII), cfOptions));
        }
        List<ColumnFamilyHandle> opened = new ArrayList<>();
        RocksDB opening;
        try {
            opening = RocksDB.open(dbOptions, dir.toString(), descriptors, opened);
        } catch (RocksDBException e) {
            closeOptions();
            throw e;
        }
        db = opening;
        for (Cf cf : Cf.values()) {
            handles.put(cf, opened.get(cf.ordinal()));
        }
    }

    /**
     * Opens (creating if needed) the index in {@code dir}.
     *
     * @param blockCacheBytes RocksDB's block cache; 64 MiB serves a few million chunks well
     * @throws IOException naming the directory when RocksDB refuses (locked by another process,
     *     damaged, no space)
     */
    public static DatastoreDb open(Path dir, long blockCacheBytes) throws IOException {
        Files.createDirectories(dir);
        try {
            return new DatastoreDb(dir, blockCacheBytes);
        } catch (RocksDBException e) {
            IOException io = new IOException("cannot open the datastore index in " + dir + ": " + e.getMessage(), e);
            if (StoreException.isDiskFull(io)) {
                // opening replays the log into a new table file: it needs a few MiB
                io = new IOException("cannot open the datastore index in " + dir + ": its filesystem is full ("
                        + e.getMessage() + "); free a few MiB on it and start again", e);
            }
            throw io;
        }
    }

    public byte[] get(Cf cf, byte[] key) throws IOException {
        try {
            return db.get(handles.get(cf), readOptions, key);
        } catch (RocksDBException e) {
            throw failure("read", e);
        }
    }

    public void put(Cf cf, byte[] key, byte[] value) throws IOException {
        try {
            db.put(handles.get(cf), writeOptions, key, value);
        } catch (RocksDBException e) {
            throw failure("write", e);
        }
    }

    public void delete(Cf cf, byte[] key) throws IOException {
        try {
            db.delete(handles.get(cf), writeOptions, key);
        } catch (RocksDBException e) {
            throw failure("delete from", e);
        }
    }

    /** Deletes every key in [{@code from}, {@code to}). */
    public void deleteRange(Cf cf, byte[] from, byte[] to) throws IOException {
        try {
            db.deleteRange(handles.get(cf), writeOptions, from, to);
        } catch (RocksDBException e) {
            throw failure("delete from", e);
        }
    }

    /** Applies several writes atomically: a batch the caller fills. */
    public void write(java.util.function.Consumer<Batch> fill) throws IOException {
        try (WriteBatch wb = new WriteBatch()) {
            fill.accept(new Batch(wb));
            db.write(writeOptions, wb);
        } catch (RocksDBException e) {
            throw failure("write", e);
        }
    }

    /** A write batch restricted to this database's column families. */
    public final class Batch {
        private final WriteBatch wb;

        private Batch(WriteBatch wb) {
            this.wb = wb;
        }

        public void put(Cf cf, byte[] key, byte[] value) {
            try {
                wb.put(handles.get(cf), key, value);
            } catch (RocksDBException e) {
                throw new IllegalStateException(e);
            }
        }

        public void delete(Cf cf, byte[] key) {
            try {
                wb.delete(handles.get(cf), key);
            } catch (RocksDBException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Visits every key with {@code prefix} in key order; the iterator is always closed. */
    public void scan(Cf cf, byte[] prefix, BiConsumer<byte[], byte[]> visitor) throws IOException {
        try (RocksIterator it = db.newIterator(handles.get(cf), readOptions)) {
            for (it.seek(prefix); it.isValid(); it.next()) {
                byte[] k = it.key();
                if (!startsWith(k, prefix)) {
                    break;
                }
                visitor.accept(k, it.value());
            }
            it.status();
        } catch (RocksDBException e) {
            throw failure("scan", e);
        }
    }

    public ChunkMeta getChunk(Digest d) throws IOException {
        byte[] v = get(Cf.CHUNKS, d.toBytes());
        return v == null ? null : ChunkMeta.decode(v);
    }

    public void putChunk(Digest d, ChunkMeta meta) throws IOException {
        put(Cf.CHUNKS, d.toBytes(), meta.encode());
    }

    public void deleteChunk(Digest d) throws IOException {
        delete(Cf.CHUNKS, d.toBytes());
    }

    /** Visits every chunk entry in digest order. */
    public void forEachChunk(BiConsumer<Digest, ChunkMeta> visitor) throws IOException {
        scan(Cf.CHUNKS, new byte[0], (k, v) -> visitor.accept(Digest.of(k), ChunkMeta.decode(v)));
    }

    /** Makes every write so far durable: flushes and fsyncs the WAL. */
    public void syncWal() throws IOException {
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            throw failure("sync the log of", e);
        }
    }

    private static boolean startsWith(byte[] k, byte[] prefix) {
        return k.length >= prefix.length && java.util.Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length);
    }

    private IOException failure(String verb, RocksDBException e) {
        String status = e.getStatus() == null ? "" : " (" + e.getStatus().getCode() + ")";
        return new IOException("cannot " + verb + " the datastore index: " + e.getMessage() + status, e);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        handles.values().forEach(ColumnFamilyHandle::close);
        db.close();
        closeOptions();
    }

    private void closeOptions() {
        readOptions.close();
        writeOptions.close();
        dbOptions.close();
        cfOptions.close();
        bloom.close();
        cache.close();
    }
}
