package dev.coffer.store.datastore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * What listings show of each restore point (disks, crypt mode, verify state, protection), cached
 * in RocksDB's catalog column family so a listing of thousands of restore points does not parse
 * thousands of manifests.
 *
 * <p>The directories stay the truth: {@link #sync()} at start drops entries whose directory is
 * gone and adds those that are missing (a store copied without its index, a crash between a
 * rename and the cache update), and every change through the server updates the entry.
 */
public final class CatalogCache {

    /** One restore point as listings show it. */
    public record Entry(String snapshot, long[] sizes, String[] disks, boolean encrypted, String verify, boolean isProtected) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final DatastoreDb db;
    private final Catalog catalog;

    public CatalogCache(DatastoreDb db, Catalog catalog) {
        this.db = db;
        this.catalog = catalog;
    }

    /** Brings the cache in line with the directories; returns how many entries changed. */
    public int sync() throws IOException {
        Set<String> present = new HashSet<>();
        collect(null, present);
        for (String ns : catalog.namespaces()) {
            collect(ns, present);
        }
        Set<String> cached = new HashSet<>();
        db.scan(DatastoreDb.Cf.CATALOG, new byte[0], (k, v) -> cached.add(new String(k, StandardCharsets.UTF_8)));
        int changed = 0;
        for (String k : cached) {
            if (!present.contains(k)) {
                db.delete(DatastoreDb.Cf.CATALOG, k.getBytes(StandardCharsets.UTF_8));
                changed++;
            }
        }
        for (String p : present) {
            if (!cached.contains(p)) {
                try {
                    refresh(SnapshotId.parsePath(p));
                    changed++;
                } catch (StoreException e) {
                    // vanished meanwhile
                }
            }
        }
        return changed;
    }

    private void collect(String ns, Set<String> out) throws IOException {
        for (GroupId g : catalog.groups(ns)) {
            for (SnapshotId s : catalog.snapshots(g)) {
                out.add(s.path());
            }
        }
    }

    /** The entry of a restore point, from the cache or (and then cached) its manifest. */
    public Entry get(SnapshotId s) throws IOException, StoreException {
        byte[] v = db.get(DatastoreDb.Cf.CATALOG, key(s));
        if (v != null) {
            try {
                return decode(s, JSON.readTree(v));
            } catch (IOException | RuntimeException damaged) {
                // rebuild below
            }
        }
        return refresh(s);
    }

    /** Re-reads the manifest of {@code s} into the cache (after publish or a change). */
    public Entry refresh(SnapshotId s) throws IOException, StoreException {
        Manifest m = catalog.manifest(s);
        ObjectNode n = JSON.createObjectNode();
        ArrayNode disks = n.putArray("disks");
        for (ManifestDisk d : m.disks()) {
            disks.addObject().put("name", d.name()).put("size", d.size());
        }
        n.put("encrypted", m.encrypted());
        n.put("verify", m.unprotected().verify().name().toLowerCase(Locale.ROOT));
        n.put("protected", m.unprotected().protect());
        db.put(DatastoreDb.Cf.CATALOG, key(s), JSON.writeValueAsBytes(n));
        return decode(s, n);
    }

    /** Drops the entry of a deleted restore point. */
    public void remove(SnapshotId s) throws IOException {
        db.delete(DatastoreDb.Cf.CATALOG, key(s));
    }

    private static Entry decode(SnapshotId s, JsonNode n) {
        JsonNode disks = n.get("disks");
        String[] names = new String[disks.size()];
        long[] sizes = new long[disks.size()];
        for (int i = 0; i < names.length; i++) {
            names[i] = disks.get(i).get("name").asText();
            sizes[i] = disks.get(i).get("size").asLong();
        }
        return new Entry(s.path(), sizes, names, n.get("encrypted").asBoolean(), n.get("verify").asText(), n.get("protected").asBoolean());
    }

    private static byte[] key(SnapshotId s) {
        return s.path().getBytes(StandardCharsets.UTF_8);
    }
}
