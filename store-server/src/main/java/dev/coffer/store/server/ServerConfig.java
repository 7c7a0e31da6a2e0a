package dev.coffer.store.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.coffer.chunker.Names;
import dev.coffer.store.datastore.Datastore;
import dev.coffer.store.datastore.DatastoreOptions;
import dev.coffer.store.datastore.SyncLevel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The server's YAML configuration file ({@code coffer server --config FILE}): listen address, state
 * directory, TLS, session lease and the datastores with their options.
 *
 * <p>Strict on purpose: an unknown key is an error naming it, because a misspelt
 * {@code sync-levl: file} silently ignored would leave an operator believing their data is safer
 * than it is. Relative paths are relative to the file's directory. Example in docs/server-config.md.
 */
public final class ServerConfig {

    /** What the file says; null where it says nothing (flags and defaults fill in). */
    public record Parsed(String listen, Path state, List<String> tlsNames, Path tlsCert, Path tlsKey, Long sessionLease,
            Map<String, StoreServer.DatastoreSpec> datastores) {}

    private static final Set<String> TOP = Set.of("listen", "state", "tls", "session-lease", "datastores");
    private static final Set<String> TLS = Set.of("names", "cert", "key");
    private static final Set<String> DATASTORE = Set.of("path", "chunk-size", "sync-level", "dedup-scope", "block-cache");

    private ServerConfig() {}

    /**
     * Reads and checks a config file.
     *
     * @throws IOException with the file name and the offending key or value
     */
    public static Parsed read(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IOException("config file " + file + " is not valid YAML: " + firstLine(e.getMessage()), e);
        }
        String where = "config file " + file;
        if (root == null || !root.isObject()) {
            throw new IOException(where + ": expected a mapping with 'datastores'");
        }
        Path base = file.toAbsolutePath().getParent();
        checkKeys(where, "", root, TOP);
        String listen = text(where, root, "listen");
        Path state = path(base, text(where, root, "state"));
        List<String> names = new ArrayList<>();
        Path cert = null;
        Path key = null;
        JsonNode tls = root.get("tls");
        if (tls != null) {
            checkKeys(where, "tls.", tls, TLS);
            JsonNode n = tls.get("names");
            if (n != null) {
                if (!n.isArray()) {
                    throw new IOException(where + ": tls.names must be a list");
                }
                n.forEach(x -> names.add(x.asText()));
            }
            cert = path(base, text(where, tls, "cert"));
            key = path(base, text(where, tls, "key"));
            if ((cert == null) != (key == null)) {
                throw new IOException(where + ": tls.cert and tls.key go together");
            }
        }
        Long lease = root.has("session-lease") ? number(where, root, "session-lease") : null;
        Map<String, StoreServer.DatastoreSpec> datastores = new LinkedHashMap<>();
        JsonNode ds = root.get("datastores");
        if (ds != null) {
            if (!ds.isObject()) {
                throw new IOException(where + ": datastores must be a mapping of name to settings");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = ds.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                datastores.put(e.getKey(), datastore(where, base, e.getKey(), e.getValue()));
            }
        }
        return new Parsed(listen, state, names, cert, key, lease, datastores);
    }

    private static StoreServer.DatastoreSpec datastore(String where, Path base, String name, JsonNode n) throws IOException {
        try {
            Names.datastore(name);
        } catch (IllegalArgumentException e) {
            throw new IOException(where + ": " + e.getMessage());
        }
        String at = "datastores." + name + ".";
        if (!n.isObject()) {
            throw new IOException(where + ": " + at + " must be a mapping with at least 'path'");
        }
        checkKeys(where, at, n, DATASTORE);
        Path dir = path(base, text(where, n, "path"));
        if (dir == null) {
            throw new IOException(where + ": " + at + "path is required");
        }
        DatastoreOptions o = DatastoreOptions.DEFAULT;
        try {
            int existing = Datastore.existingChunkSize(dir);
            if (n.has("chunk-size")) {
                o = o.withChunkSize((int) (long) number(where, n, "chunk-size"));
            } else if (existing > 0) {
                o = o.withChunkSize(existing);
            }
            if (n.has("sync-level")) {
                o = o.withSyncLevel(SyncLevel.parse(text(where, n, "sync-level")));
            }
            if (n.has("dedup-scope")) {
                o = o.withDedupScope(DatastoreOptions.DedupScope.parse(text(where, n, "dedup-scope")));
            }
            if (n.has("block-cache")) {
                o = new DatastoreOptions(o.chunkSize(), o.dedupScope(), o.syncLevel(), number(where, n, "block-cache"));
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(where + ": datastore '" + name + "': " + e.getMessage());
        }
        return new StoreServer.DatastoreSpec(dir, o);
    }

    private static void checkKeys(String where, String prefix, JsonNode n, Set<String> allowed) throws IOException {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new IOException(where + ": unknown key '" + prefix + k + "' (known: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
    }

    private static String text(String where, JsonNode n, String key) throws IOException {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isValueNode()) {
            throw new IOException(where + ": '" + key + "' must be a single value");
        }
        return v.asText();
    }

    private static long number(String where, JsonNode n, String key) throws IOException {
        JsonNode v = n.get(key);
        if (v == null || !v.canConvertToLong()) {
            throw new IOException(where + ": '" + key + "' must be a whole number");
        }
        return v.asLong();
    }

    private static Path path(Path base, String p) {
        return p == null ? null : base.resolve(p).normalize();
    }

    private static String firstLine(String m) {
        if (m == null) {
            return "";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
