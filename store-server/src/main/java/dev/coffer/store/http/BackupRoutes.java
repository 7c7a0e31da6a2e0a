package dev.coffer.store.http;

import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndex;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.Names;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.ApiTypes.BeginBackupRequest;
import dev.coffer.store.api.ApiTypes.BeginBackupResponse;
import dev.coffer.store.api.ApiTypes.FinishResponse;
import dev.coffer.store.api.ApiTypes.KnownRequest;
import dev.coffer.store.api.ApiTypes.KnownResponse;
import dev.coffer.store.api.ApiTypes.UploadResult;
import dev.coffer.store.api.Wire;
import dev.coffer.store.datastore.BackupSession;
import dev.coffer.store.datastore.ChunkInserter;
import dev.coffer.store.datastore.DatastoreService;
import dev.coffer.store.datastore.StoreException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The backup session routes: begin, upload chunks, indexes and files, finish or abort. */
final class BackupRoutes {

    private static final String S = "/api/v1/datastores/:ds/backups/:sid";
    /** The largest index accepted: 2^28 chunks (16 PiB at 64 KiB chunks). */
    static final long INDEX_LIMIT = FixedIndex.fileLength(1L << 28);

    private final HttpApi api;

    BackupRoutes(HttpApi api) {
        this.api = api;
    }

    void mount(Router r) {
        r.post("/api/v1/datastores/:ds/backups").handler(HttpApi.jsonBody()).handler(this::begin);
        r.get(S + "/base/:name").handler(this::baseFile);
        r.put(S + "/chunks/:digest").handler(api.exactBlobBody()).handler(this::chunk);
        r.post(S + "/known").handler(HttpApi.jsonBody()).handler(this::known);
        r.put(S + "/files/:name").handler(this::file);
        r.post(S + "/finish").handler(HttpApi.blobBody()).handler(this::finish);
        r.post(S + "/heartbeat").handler(ctx -> {
            DatastoreService ds = api.datastore(ctx);
            api.blocking(ctx, () -> session(ctx, ds), s -> ctx.response().setStatusCode(204).end());
        });
        r.delete(S).handler(ctx -> {
            DatastoreService ds = api.datastore(ctx);
            api.blocking(ctx, () -> {
                BackupSession s = session(ctx, ds);
                s.abort();
                ds.backups().forget(s);
                return null;
            }, v -> ctx.response().setStatusCode(204).end());
        });
    }

    private BackupSession session(RoutingContext ctx, DatastoreService ds) throws StoreException {
        String id = ctx.pathParam("sid");
        if (id == null || !id.matches("[0-9a-f]{32}")) {
            throw Errors.badRequest("bad-session", "'" + Names.printable(id) + "' is not a session id");
        }
        BackupSession s = ds.backups().get(id);
        if (!s.owner().equals(HttpApi.access(ctx).tokenId())) {
            throw Errors.forbidden("use another token's backup session");
        }
        return s;
    }

    private void begin(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        BeginBackupRequest req = Wire.parse(HttpApi.body(ctx), BeginBackupRequest.class);
        if (req.group() == null || req.time() == null) {
            throw Errors.badRequest("bad-body", "'group' and 'time' are required");
        }
        GroupId group = GroupId.parse(req.ns() == null || req.ns().isEmpty() ? null : req.ns(), req.group());
        java.time.Instant time = SnapshotId.parseTime(req.time());
        String crypt = req.crypt() == null ? "none" : req.crypt();
        if (!crypt.equals("none") && !crypt.equals("encrypt")) {
            throw Errors.badRequest("bad-crypt", "crypt must be 'none' or 'encrypt', not '" + Names.printable(crypt) + "'");
        }
        boolean encrypted = crypt.equals("encrypt");
        if (encrypted && req.keyFingerprint() == null) {
            throw Errors.badRequest("bad-crypt", "an encrypted backup must name its key_fingerprint");
        }
        Access a = HttpApi.access(ctx);
        String dsName = ds.datastore().name();
        if (!a.mayBackup(dsName, group.ns())) {
            throw Errors.forbidden("create restore points in datastore '" + dsName + "'" + (group.ns() == null ? "" : " namespace " + group.ns()));
        }
        api.blocking(ctx, () -> {
            BackupSession s = ds.backups().begin(group, time, encrypted, req.keyFingerprint(), a.tokenId(), a.mayAdmin(dsName, group.ns()),
                    req.importing());
            return new BeginBackupResponse(s.id(), ds.datastore().uuid().toString(), ds.datastore().options().chunkSize(),
                    s.base() == null ? null : s.base().path(), s.baseBadDigests().stream().map(Digest::hex).sorted().toList(),
                    ds.datastore().options().dedupScope().name().toLowerCase(Locale.ROOT), ds.backups().lease().toSeconds(),
                    s.noBaseReason());
        }, resp -> HttpApi.json(ctx, 201, resp));
    }

    /** The base's manifest or one of its files, which the client compares against. */
    private void baseFile(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        String name = ctx.pathParam("name").equals(Manifest.FILE_NAME) ? Manifest.FILE_NAME : Names.item(ctx.pathParam("name"));
        api.blocking(ctx, () -> {
            BackupSession s = session(ctx, ds);
            if (s.base() == null) {
                throw StoreException.notFound("no-base", "session " + s.id() + " has no base restore point");
            }
            try {
                return Files.readAllBytes(ds.catalog().dir(s.base()).resolve(name));
            } catch (NoSuchFileException e) {
                throw StoreException.notFound("no-such-file", "base " + s.base() + " has no file " + name);
            }
        }, bytes -> ctx.response().putHeader("content-type", "application/octet-stream").end(Buffer.buffer(bytes)));
    }

    private void chunk(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        Digest d = HttpApi.digestParam(ctx);
        int size = intParam(ctx, "size");
        byte[] blob = HttpApi.body(ctx);
        api.blocking(ctx, () -> session(ctx, ds).uploadChunk(d, blob, size), outcome -> {
            api.metrics.chunksUploaded.increment();
            api.metrics.bytesUploaded.add(blob.length);
            if (outcome != ChunkInserter.Outcome.KEPT) {
                api.metrics.chunksStored.increment();
            }
            HttpApi.json(ctx, 200, new UploadResult(outcome.name().toLowerCase(Locale.ROOT)));
        });
    }

    private void known(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        KnownRequest req = Wire.parse(HttpApi.body(ctx), KnownRequest.class);
        if (req.digests() == null || req.digests().size() > 16384) {
            throw Errors.badRequest("bad-body", "'digests' must list at most 16384 digests");
        }
        List<Digest> digests = req.digests().stream().map(h -> {
            if (!Digest.isValidHex(h)) {
                throw Errors.badRequest("bad-digest", "'" + Names.printable(h) + "' is not a digest (64 lowercase hex)");
            }
            return Digest.parse(h);
        }).toList();
        api.blocking(ctx, () -> session(ctx, ds).knownChunks(digests), known -> HttpApi.json(ctx, 200, new KnownResponse(known)));
    }

    /** An index ({@code *.fidx}, streamed to disk: it may be large) or a config blob (in memory, 16 MiB at most). */
    private void file(RoutingContext ctx) {
        // hold the body back until the temp file is open (opening is asynchronous)
        ctx.request().pause();
        DatastoreService ds = api.datastore(ctx);
        String name = Names.item(ctx.pathParam("name"));
        String length = ctx.request().getHeader("content-length");
        long limit = name.endsWith(".fidx") ? INDEX_LIMIT : HttpApi.BLOB_LIMIT;
        if (length == null) {
            throw new Errors.HttpError(411, "length-required", "file uploads need a Content-Length");
        }
        long len;
        try {
            len = Long.parseLong(length);
        } catch (NumberFormatException e) {
            throw Errors.badRequest("bad-length", "Content-Length '" + Names.printable(length) + "' is not a number");
        }
        if (len > limit) {
            throw new Errors.HttpError(413, "too-large", "file " + name + " of " + len + " bytes is larger than the limit of " + limit);
        }
        Path tmp = ds.datastore().tmpDir().resolve("upload-" + java.util.UUID.randomUUID());
        api.vertx.fileSystem().open(tmp.toString(), new OpenOptions().setCreateNew(true).setWrite(true))
                .compose(f -> {
                    if (ctx.response().closed()) {
                        // The client hung up while the file was being opened. The request's end or
                        // failure has already been signalled, so a pipe would wait forever and the
                        // temp file (and its descriptor) would stay until the next start.
                        return f.close().compose(x -> io.vertx.core.Future.<Void>failedFuture(
                                new java.io.IOException("the client closed the connection during the upload of " + name)));
                    }
                    return ctx.request().pipeTo(f);
                })
                .onFailure(e -> {
                    api.vertx.fileSystem().delete(tmp.toString());
                    ctx.fail(e);
                })
                .onSuccess(v -> api.blocking(ctx, () -> {
                    try {
                        if (Files.size(tmp) != len) {
                            throw Errors.badRequest("truncated", "file " + name + " arrived with " + Files.size(tmp) + " of " + len + " bytes");
                        }
                        BackupSession s = session(ctx, ds);
                        if (name.endsWith(".fidx")) {
                            s.putIndex(name, tmp);
                        } else {
                            s.putBlob(name, Files.readAllBytes(tmp));
                        }
                        return null;
                    } finally {
                        Files.deleteIfExists(tmp);
                    }
                }, x -> ctx.response().setStatusCode(204).end()));
    }

    private void finish(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        byte[] manifest = HttpApi.body(ctx);
        api.blocking(ctx, () -> {
            BackupSession s = session(ctx, ds);
            SnapshotId published = s.finish(manifest);
            ds.backups().forget(s);
            ds.cache().refresh(published);
            return published;
        }, published -> {
            api.metrics.snapshotsPublished.increment();
            HttpApi.json(ctx, 200, new FinishResponse(published.path()));
        });
    }

    private static int intParam(RoutingContext ctx, String name) {
        String v = ctx.queryParams().get(name);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw Errors.badRequest(v == null ? "missing-parameter" : "bad-parameter",
                    "query parameter '" + name + "' must be a number, got '" + Names.printable(v) + "'");
        }
    }
}
