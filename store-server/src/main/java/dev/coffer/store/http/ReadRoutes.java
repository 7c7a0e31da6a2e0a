package dev.coffer.store.http;

import dev.coffer.chunker.Digest;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.Names;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.ApiTypes.DatastoreInfo;
import dev.coffer.store.api.ApiTypes.DiskInfo;
import dev.coffer.store.api.ApiTypes.GroupInfo;
import dev.coffer.store.api.ApiTypes.OpenReaderRequest;
import dev.coffer.store.api.ApiTypes.OpenReaderResponse;
import dev.coffer.store.api.ApiTypes.SnapshotInfo;
import dev.coffer.store.api.Wire;
import dev.coffer.store.datastore.DatastoreService;
import dev.coffer.store.datastore.ReaderSessions;
import dev.coffer.store.datastore.StoreException;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading routes: datastores, namespaces, groups, restore points, their files, and reader
 * sessions that fetch chunks under a lease.
 */
final class ReadRoutes {

    private static final String DS = "/api/v1/datastores/:ds";
    private final HttpApi api;

    ReadRoutes(HttpApi api) {
        this.api = api;
    }

    void mount(Router r) {
        r.get("/api/v1/datastores").handler(this::datastores);
        r.get(DS + "/namespaces").handler(this::namespaces);
        r.get(DS + "/groups").handler(this::groups);
        r.get(DS + "/snapshots").handler(this::snapshots);
        r.get(DS + "/snapshot/manifest").handler(ctx -> file(ctx, Manifest.FILE_NAME));
        r.get(DS + "/snapshot/files/:name").handler(ctx -> file(ctx, Names.item(ctx.pathParam("name"))));
        r.post(DS + "/readers").handler(HttpApi.jsonBody()).handler(this::openReader);
        r.get(DS + "/readers/:rid/chunks/:digest").handler(this::readChunk);
        r.post(DS + "/readers/:rid/heartbeat").handler(ctx -> {
            DatastoreService ds = api.datastore(ctx);
            api.blocking(ctx, () -> reader(ctx, ds), r2 -> ctx.response().setStatusCode(204).end());
        });
        r.delete(DS + "/readers/:rid").handler(ctx -> {
            DatastoreService ds = api.datastore(ctx);
            api.blocking(ctx, () -> {
                reader(ctx, ds).close();
                return null;
            }, v -> ctx.response().setStatusCode(204).end());
        });
    }

    private void datastores(RoutingContext ctx) {
        Access a = HttpApi.access(ctx);
        List<DatastoreInfo> out = new ArrayList<>();
        api.datastores.forEach((name, ds) -> {
            if (a.maySee(name)) {
                out.add(new DatastoreInfo(name, ds.datastore().uuid().toString(), ds.datastore().options().chunkSize()));
            }
        });
        out.sort(java.util.Comparator.comparing(DatastoreInfo::name));
        HttpApi.json(ctx, 200, out);
    }

    private void namespaces(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        Access a = HttpApi.access(ctx);
        String name = ds.datastore().name();
        // a token limited to one namespace sees only the namespaces it has a grant for
        api.blocking(ctx, () -> ds.catalog().namespaces().stream()
                .filter(ns -> a.mayReadAll(name, ns) || a.mayBackup(name, ns) || a.mayAdmin(name, ns)).toList(),
                list -> HttpApi.json(ctx, 200, list));
    }

    private void groups(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        String ns = HttpApi.ns(ctx);
        api.blocking(ctx, () -> {
            List<GroupInfo> out = new ArrayList<>();
            for (GroupId g : ds.catalog().groups(ns)) {
                if (api.mayRead(ctx, ds, g)) {
                    List<SnapshotId> all = ds.catalog().snapshots(g);
                    out.add(new GroupInfo(g.ns(), g.name(), ds.catalog().owner(g), all.size(),
                            all.isEmpty() ? null : SnapshotId.formatTime(all.getLast().time())));
                }
            }
            return out;
        }, out -> HttpApi.json(ctx, 200, out));
    }

    private void snapshots(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        String ns = HttpApi.ns(ctx);
        String group = ctx.queryParams().get("group");
        api.blocking(ctx, () -> {
            List<GroupId> groups = group == null ? ds.catalog().groups(ns) : List.of(GroupId.parse(ns, group));
            List<SnapshotInfo> out = new ArrayList<>();
            for (GroupId g : groups) {
                if (!api.mayRead(ctx, ds, g)) {
                    continue;
                }
                for (SnapshotId s : ds.catalog().snapshots(g)) {
                    out.add(info(ds, s));
                }
            }
            out.sort(java.util.Comparator.comparing(SnapshotInfo::time).thenComparing(SnapshotInfo::snapshot));
            return out;
        }, out -> HttpApi.json(ctx, 200, out));
    }

    static SnapshotInfo info(DatastoreService ds, SnapshotId s) throws IOException, StoreException {
        var e = ds.cache().get(s);
        List<DiskInfo> disks = new ArrayList<>();
        for (int i = 0; i < e.disks().length; i++) {
            disks.add(new DiskInfo(e.disks()[i], e.sizes()[i]));
        }
        return new SnapshotInfo(s.path(), s.ns(), s.group().name(), SnapshotId.formatTime(s.time()), disks,
                e.encrypted() ? "encrypt" : "none", e.verify(), e.isProtected());
    }

    /** A file of a published restore point: its manifest, an index or a config blob. */
    private void file(RoutingContext ctx, String name) {
        DatastoreService ds = api.datastore(ctx);
        SnapshotId s = HttpApi.snapshotParam(ctx);
        api.blocking(ctx, () -> {
            if (!api.mayRead(ctx, ds, s.group())) {
                throw Errors.forbidden("read group " + s.group());
            }
            try {
                return Files.readAllBytes(ds.catalog().dir(s).resolve(name));
            } catch (NoSuchFileException e) {
                throw StoreException.notFound("no-such-file", ds.catalog().exists(s)
                        ? "restore point " + s + " has no file " + name : "restore point " + s + " does not exist");
            }
        }, bytes -> ctx.response().putHeader("content-type",
                name.endsWith(".json") ? "application/json" : "application/octet-stream").end(Buffer.buffer(bytes)));
    }

    private void openReader(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        OpenReaderRequest req = Wire.parse(HttpApi.body(ctx), OpenReaderRequest.class);
        if (req.snapshot() == null) {
            throw Errors.badRequest("bad-body", "'snapshot' is required: the restore point to read, such as vm/101/2026-11-22T10:00:00Z");
        }
        SnapshotId s = SnapshotId.parsePath(req.snapshot());
        api.blocking(ctx, () -> {
            if (!api.mayRead(ctx, ds, s.group())) {
                throw Errors.forbidden("read group " + s.group());
            }
            ReaderSessions.Reader r = ds.readers().open(s, HttpApi.access(ctx).tokenId());
            return new OpenReaderResponse(r.id(), s.path(), ds.readers().lease().toSeconds());
        }, resp -> HttpApi.json(ctx, 201, resp));
    }

    private void readChunk(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        Digest d = HttpApi.digestParam(ctx);
        api.blocking(ctx, () -> reader(ctx, ds).chunk(d), blob -> {
            api.metrics.chunksServed.increment();
            api.metrics.bytesServed.add(blob.length);
            ctx.response().putHeader("content-type", "application/octet-stream").end(BufferInternal.buffer(Unpooled.wrappedBuffer(blob)));
        });
    }

    /**
     * The reader named in the path, if the caller opened it. Like backup sessions, a reader belongs
     * to its token: its id alone (seen in a log, say) must not let another token read the restore
     * point, which that token may have no right to read.
     */
    private static ReaderSessions.Reader reader(RoutingContext ctx, DatastoreService ds) throws StoreException {
        ReaderSessions.Reader r = ds.readers().get(readerId(ctx));
        if (!r.owner().equals(HttpApi.access(ctx).tokenId())) {
            throw Errors.forbidden("use another token's reader");
        }
        return r;
    }

    static String readerId(RoutingContext ctx) {
        String id = ctx.pathParam("rid");
        if (id == null || !id.matches("[0-9a-f]{32}")) {
            throw Errors.badRequest("bad-reader", "'" + Names.printable(id) + "' is not a reader id");
        }
        return id;
    }
}
