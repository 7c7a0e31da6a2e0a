package dev.coffer.store.datastore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.chunker.AtomicFiles;
import dev.coffer.chunker.Names;
import dev.coffer.chunker.SnapshotId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * One datastore: a directory holding chunk files, restore point directories and a RocksDB index.
 *
 * <pre>
 * DIR/.coffer/datastore.json   uuid, chunk size, creation time (written once)
 * DIR/.coffer/index/           RocksDB: chunk metadata, sessions, catalog cache, jobs
 * DIR/.coffer/tmp/             restore points being written (same filesystem: publish is a rename)
 * DIR/chunks/&lt;4 hex&gt;/&lt;hex&gt;     chunk blobs
 * DIR/[ns/NAME/…]TYPE/ID/TIME/ published restore points: manifest.json, *.fidx, *.blob
 * </pre>
 *
 * <p>The restore point directories are the source of truth; RocksDB's catalog is a cache. The
 * uuid names the datastore in QEMU checkpoint names, so two datastores never share bitmaps.
 */
public final class Datastore implements AutoCloseable {

    static final String FORMAT = "coffer-datastore-v1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] GC_EPOCH_KEY = "gc-epoch".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final String name;
    private final Path dir;
    private final UUID uuid;
    private final DatastoreOptions options;
    private final DatastoreDb db;
    private final FileChunkStore chunks;
    private final ChunkInserter inserter;

    private Datastore(String name, Path dir, UUID uuid, DatastoreOptions options) throws IOException {
        this.name = name;
        this.dir = dir;
        this.uuid = uuid;
        this.options = options;
        this.chunks = new FileChunkStore(dir.resolve("chunks"), options.syncLevel());
        Files.createDirectories(tmpDir());
        this.db = DatastoreDb.open(dir.resolve(".coffer").resolve("index"), options.blockCacheBytes());
        // the index is locked now: no other process uploads into this datastore, so every partial
        // chunk file is an orphan of a process that died mid-upload
        chunks.removePartials();
        this.inserter = new ChunkInserter(chunks, db);
    }

    /**
     * Opens the datastore in {@code dir}, creating it (with {@code options}' chunk size) when the
     * directory is missing or empty.
     *
     * @throws IOException when the directory holds something that is not a datastore, or a
     *     datastore whose chunk size differs from the one configured
     */
    public static Datastore open(String name, Path dir, DatastoreOptions options) throws IOException {
        Names.datastore(name);
        Path meta = dir.resolve(".coffer").resolve("datastore.json");
        if (!Files.exists(meta)) {
            if (Files.isDirectory(dir)) {
                try (var entries = Files.list(dir)) {
                    if (entries.anyMatch(p -> !p.getFileName().toString().equals(".coffer"))) {
                        throw new IOException("cannot create datastore '" + name + "' in " + dir
                                + ": the directory is not empty and holds no datastore");
                    }
                }
            }
            Files.createDirectories(meta.getParent());
            ObjectNode n = JSON.createObjectNode();
            n.put("format", FORMAT);
            n.put("uuid", UUID.randomUUID().toString());
            n.put("chunk_size", options.chunkSize());
            n.put("created", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            AtomicFiles.writeNew(meta, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n), "rw-r-----");
            AtomicFiles.fsyncDirectory(dir);
        }
        JsonNode n;
        try {
            n = JSON.readTree(Files.readAllBytes(meta));
        } catch (NoSuchFileException e) {
            throw new IOException("datastore '" + name + "' in " + dir + " has no " + meta.getFileName(), e);
        } catch (IOException e) {
            throw new IOException("datastore '" + name + "': " + meta + " is damaged: " + e.getMessage(), e);
        }
        if (!FORMAT.equals(n.path("format").asText())) {
            throw new IOException("datastore '" + name + "': " + meta + " is not a Coffer datastore description");
        }
        int chunkSize = n.path("chunk_size").asInt();
        if (chunkSize != options.chunkSize()) {
            throw new IOException("datastore '" + name + "' in " + dir + " was created with chunk size " + chunkSize
                    + "; it cannot change to " + options.chunkSize());
        }
        UUID uuid;
        try {
            uuid = UUID.fromString(n.path("uuid").asText());
        } catch (IllegalArgumentException e) {
            throw new IOException("datastore '" + name + "': " + meta + " has no valid uuid", e);
        }
        return new Datastore(name, dir, uuid, options);
    }

    /** Reads the chunk size a datastore was created with, or -1 when {@code dir} holds none yet. */
    public static int existingChunkSize(Path dir) throws IOException {
        Path meta = dir.resolve(".coffer").resolve("datastore.json");
        return Files.exists(meta) ? JSON.readTree(Files.readAllBytes(meta)).path("chunk_size").asInt(-1) : -1;
    }

    public String name() {
        return name;
    }

    public Path dir() {
        return dir;
    }

    public UUID uuid() {
        return uuid;
    }

    public DatastoreOptions options() {
        return options;
    }

    public ChunkStore chunks() {
        return chunks;
    }

    public DatastoreDb db() {
        return db;
    }

    public ChunkInserter inserter() {
        return inserter;
    }

    /** Where restore points are assembled before the rename that publishes them. */
    public Path tmpDir() {
        return dir.resolve(".coffer").resolve("tmp");
    }

    /** The directory of a restore point (published or not). */
    public Path snapshotDir(SnapshotId ref) {
        return dir.resolve(ref.relativePath());
    }

    /** Every digest flagged bad by verify and not yet healed. */
    public java.util.Set<dev.coffer.chunker.Digest> badDigests() throws IOException {
        return inserter.badDigests();
    }

    /** The GC epoch: 0 until the first GC; only GC raises it. */
    public long gcEpoch() throws IOException {
        byte[] v = db.get(DatastoreDb.Cf.META, GC_EPOCH_KEY);
        return v == null ? 0 : ByteBuffer.wrap(v).getLong();
    }

    /** Makes everything written so far durable at this datastore's sync level (before a publish). */
    public void syncForPublish() throws IOException {
        chunks.sync();
        if (options.syncLevel() != SyncLevel.NONE) {
            db.syncWal();
        }
    }

    @Override
    public void close() {
        db.close();
    }
}
