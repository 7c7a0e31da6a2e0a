package dev.coffer.store.datastore;

import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.SnapshotId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything the server runs for one datastore: the store itself, its catalog, locks, backup and
 * reader sessions. Opening it recovers from a crash (staged work of dead sessions is removed);
 * closing it aborts open sessions and closes RocksDB.
 */
public final class DatastoreService implements AutoCloseable {

    private final Datastore datastore;
    private final Catalog catalog;
    private final SnapshotLocks locks = new SnapshotLocks();
    private final BackupSessions backups;
    private final ReaderSessions readers;
    private final CatalogCache cache;

    private DatastoreService(Datastore datastore, Duration lease) {
        this.datastore = datastore;
        this.catalog = new Catalog(datastore.dir());
        this.cache = new CatalogCache(datastore.db(), catalog);
        this.backups = new BackupSessions(datastore, catalog, locks, lease);
        this.readers = new ReaderSessions(datastore, catalog, locks, lease);
    }

    /** Opens (creating if needed) the datastore {@code name} in {@code dir} and recovers its sessions. */
    public static DatastoreService open(String name, Path dir, DatastoreOptions options, Duration lease) throws IOException {
        Datastore ds = Datastore.open(name, dir, options);
        try {
            DatastoreService s = new DatastoreService(ds, lease);
            s.backups.recover();
            s.cache.sync();
            return s;
        } catch (IOException | RuntimeException e) {
            ds.close();
            throw e;
        }
    }

    public Datastore datastore() {
        return datastore;
    }

    public Catalog catalog() {
        return catalog;
    }

    public SnapshotLocks locks() {
        return locks;
    }

    /** What listings show of each restore point, cached in RocksDB. */
    public CatalogCache cache() {
        return cache;
    }

    public BackupSessions backups() {
        return backups;
    }

    public ReaderSessions readers() {
        return readers;
    }

    /** Expires idle backup and reader sessions; call periodically. */
    public void expireIdle() throws IOException {
        backups.expireIdle();
        readers.expireIdle();
    }

    /**
     * Deletes a restore point (admin action). Its chunks stay until GC.
     *
     * @throws StoreException CONFLICT when it is protected or in use, NOT_FOUND when absent
     */
    public void delete(SnapshotId snapshot) throws IOException, StoreException {
        Manifest m = catalog.manifest(snapshot);
        if (m.unprotected().protect()) {
            throw StoreException.conflict("protected", "restore point " + snapshot + " is protected; unprotect it first");
        }
        if (locks.isHeld(snapshot)) {
            throw StoreException.conflict("in-use", "restore point " + snapshot + " is being read or used as a base; try again later");
        }
        Path dir = catalog.dir(snapshot);
        Path trash = datastore.tmpDir().resolve("deleted-" + System.nanoTime());
        Files.move(dir, trash, java.nio.file.StandardCopyOption.ATOMIC_MOVE); // gone from listings at once
        cache.remove(snapshot);
        BackupSession.deleteTree(trash);
    }

    /** Sets or clears the protection flag (in the manifest's unprotected part). */
    public void protect(SnapshotId snapshot, boolean protect) throws IOException, StoreException {
        Manifest m = catalog.manifest(snapshot);
        Manifest.Unprotected u = m.unprotected();
        Manifest changed = m.withUnprotected(new Manifest.Unprotected(u.verify(), u.verifyTime(), u.notes(), protect));
        dev.coffer.chunker.AtomicFiles.replace(catalog.dir(snapshot).resolve(Manifest.FILE_NAME), changed.toBytes());
        cache.refresh(snapshot);
    }

    @Override
    public void close() throws IOException {
        try {
            backups.abortAll();
            readers.closeAll();
        } finally {
            datastore.close();
        }
    }
}
