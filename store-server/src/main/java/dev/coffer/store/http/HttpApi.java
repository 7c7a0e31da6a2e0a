package dev.coffer.store.http;

import dev.coffer.chunker.FileFormats;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Names;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.Wire;
import dev.coffer.store.datastore.DatastoreService;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The HTTP API: routes, authentication, body limits and the failure handler, as a thin adapter.
 *
 * <p>Handlers run on the event loop only to parse parameters and write responses; every datastore
 * call (RocksDB, files, hashing) goes to the {@code coffer-store} worker pool through
 * {@link #blocking}, so the event loop never blocks. Route groups live in {@link BackupRoutes},
 * {@link ReadRoutes} and {@link AdminRoutes}; docs/api.md lists every route.
 */
public final class HttpApi {

    /** Largest JSON request body. */
    static final int JSON_LIMIT = 1 << 20;
    /** Largest chunk blob, manifest or config blob body. */
    static final int BLOB_LIMIT = FileFormats.BLOB_MAX_LENGTH;

    final Vertx vertx;
    final Map<String, DatastoreService> datastores;
    final Function<String, Optional<Access>> authenticate;
    final WorkerExecutor worker;
    final Metrics metrics = new Metrics();
    final TokenAdmin tokens;
    final UploadBudget uploads;

    /**
     * @param authenticate maps a bearer token to what it may do (empty: unknown or revoked)
     * @param tokens the token administration behind {@code /api/v1/tokens}
     */
    public HttpApi(Vertx vertx, Map<String, DatastoreService> datastores, Function<String, Optional<Access>> authenticate,
            TokenAdmin tokens, int workers) {
        this(vertx, datastores, authenticate, tokens, workers, 0);
    }

    /** @param uploadBudget bytes of chunk upload bodies held in memory at once, or 0 for a quarter of the heap */
    public HttpApi(Vertx vertx, Map<String, DatastoreService> datastores, Function<String, Optional<Access>> authenticate,
            TokenAdmin tokens, int workers, long uploadBudget) {
        this.uploads = uploadBudget > 0 ? new UploadBudget(uploadBudget) : UploadBudget.forHeap(Runtime.getRuntime().maxMemory());
        this.vertx = vertx;
        this.datastores = datastores;
        this.authenticate = authenticate;
        this.tokens = tokens;
        this.worker = vertx.createSharedWorkerExecutor("coffer-store", workers);
    }

    /** The router serving the API, {@code /metrics} and the dashboard. */
    public Router router() {
        Router r = Router.router(vertx);
        r.route("/api/v1/*").handler(this::authenticate);
        new ReadRoutes(this).mount(r);
        new BackupRoutes(this).mount(r);
        new AdminRoutes(this).mount(r);
        r.get("/metrics").handler(ctx -> ctx.response().putHeader("content-type", "text/plain; version=0.0.4")
                .end(metrics.render(datastores.values().stream().mapToInt(d -> d.backups().openCount()).sum(), datastores.size(),
                        uploads.used())));
        r.route("/*").handler(StaticHandler.create("coffer-web-ui").setCachingEnabled(false));
        r.route().failureHandler(ctx -> {
            metrics.requestErrors.increment();
            Errors.handle(ctx);
        });
        r.route().last().handler(ctx -> Errors.send(ctx, 404, "not-found",
                "no such route: " + ctx.request().method() + " " + ctx.request().path()));
        return r;
    }

    private void authenticate(RoutingContext ctx) {
        String h = ctx.request().getHeader("Authorization");
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            ctx.fail(Errors.unauthorized());
            return;
        }
        Optional<Access> access = authenticate.apply(h.substring(7).trim());
        if (access.isEmpty()) {
            ctx.fail(Errors.unauthorized());
            return;
        }
        ctx.put("access", access.get());
        ctx.next();
    }

    static Access access(RoutingContext ctx) {
        return ctx.get("access");
    }

    /** The datastore named in the path, if the caller may see it (else 404: don't reveal its existence). */
    DatastoreService datastore(RoutingContext ctx) {
        String name = Names.datastore(ctx.pathParam("ds"));
        DatastoreService ds = datastores.get(name);
        if (ds == null || !access(ctx).maySee(name)) {
            throw new Errors.HttpError(404, "no-such-datastore", "datastore '" + name + "' does not exist");
        }
        return ds;
    }

    static String ns(RoutingContext ctx) {
        String ns = ctx.queryParams().get("ns");
        return ns == null || ns.isEmpty() ? null : Names.namespace(ns);
    }

    /** The {@code :digest} path parameter: exactly 64 lowercase hex characters, else 400. */
    static dev.coffer.chunker.Digest digestParam(RoutingContext ctx) {
        String hex = ctx.pathParam("digest");
        if (!dev.coffer.chunker.Digest.isValidHex(hex)) {
            throw Errors.badRequest("bad-digest", "'" + Names.printable(hex) + "' is not a digest (64 lowercase hex)");
        }
        return dev.coffer.chunker.Digest.parse(hex);
    }

    static SnapshotId snapshotParam(RoutingContext ctx) {
        String s = ctx.queryParams().get("snapshot");
        if (s == null) {
            throw Errors.badRequest("missing-parameter", "query parameter 'snapshot' is required");
        }
        return SnapshotId.parsePath(s);
    }

    /** May the caller read this group? Read/admin roles: any group; backup role: groups it owns. */
    boolean mayRead(RoutingContext ctx, DatastoreService ds, GroupId group) throws java.io.IOException {
        Access a = access(ctx);
        String name = ds.datastore().name();
        if (a.mayReadAll(name, group.ns()) || a.mayAdmin(name, group.ns())) {
            return true;
        }
        return a.mayBackup(name, group.ns()) && a.tokenId().equals(ds.catalog().owner(group));
    }

    /** Runs {@code work} on the worker pool, then {@code respond} on the event loop; failures go to the failure handler. */
    <T> void blocking(RoutingContext ctx, Callable<T> work, Consumer<T> respond) {
        worker.<T>executeBlocking(work, false).onComplete(ar -> {
            if (ar.succeeded()) {
                try {
                    respond.accept(ar.result());
                } catch (RuntimeException e) {
                    ctx.fail(e);
                }
            } else {
                ctx.fail(ar.cause());
            }
        });
    }

    static void json(RoutingContext ctx, int status, Object body) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(Buffer.buffer(Wire.toBytes(body)));
    }

    static BodyHandler jsonBody() {
        return BodyHandler.create(false).setBodyLimit(JSON_LIMIT);
    }

    static BodyHandler blobBody() {
        return BodyHandler.create(false).setBodyLimit(BLOB_LIMIT);
    }

    private static final String EXACT_BODY = "coffer.exactBody";

    /**
     * A chunk upload's body, read on the event loop straight into one array of the announced
     * Content-Length (at most {@link #BLOB_LIMIT}; larger is 413), for {@link #body} to hand out
     * without another copy. {@link BodyHandler} would grow its buffer from 64 KiB by doubling (six
     * copies and as many large garbage arrays for a 4 MiB chunk) and {@link #body} would copy it once
     * more. Without a Content-Length (chunked transfer) it falls back to {@link #blobBody()}.
     */
    io.vertx.core.Handler<RoutingContext> exactBlobBody() {
        BodyHandler fallback = blobBody();
        return ctx -> {
            io.vertx.core.http.HttpServerRequest req = ctx.request();
            String cl = req.getHeader("Content-Length");
            long n;
            try {
                n = cl == null ? -1 : Long.parseLong(cl.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n > BLOB_LIMIT) {
                ctx.fail(413);
                return;
            }
            // without a length the fallback may buffer up to the limit: budget that much
            long reserve = n < 0 ? BLOB_LIMIT : n;
            String token = access(ctx).tokenId();
            if (!uploads.tryReserve(token, reserve)) {
                refuseBusy(ctx);
                return;
            }
            ctx.addEndHandler(done -> uploads.release(token, reserve)); // answered, failed or the connection dropped
            if (n < 0 || req.isEnded()) {
                fallback.handle(ctx);
                return;
            }
            byte[] out = new byte[(int) n];
            int[] pos = {0};
            boolean[] failed = {false};
            req.handler(b -> {
                if (failed[0]) {
                    return;
                }
                int len = b.length();
                if (pos[0] + len > out.length) { // more than announced: HTTP/1.1 framing forbids it, HTTP/2 could
                    failed[0] = true;
                    ctx.fail(new Errors.HttpError(413, "too-large", "the body is longer than its Content-Length of "
                            + out.length + " bytes"));
                    return;
                }
                b.getBytes(0, len, out, pos[0]);
                pos[0] += len;
            });
            req.endHandler(v -> {
                if (failed[0]) {
                    return;
                }
                if (pos[0] != out.length) {
                    failed[0] = true;
                    ctx.fail(Errors.badRequest("truncated", "the body ended after " + pos[0] + " of the "
                            + out.length + " bytes its Content-Length announced"));
                    return;
                }
                ctx.put(EXACT_BODY, out);
                ctx.next();
            });
            req.exceptionHandler(e -> {
                if (!failed[0]) {
                    failed[0] = true;
                    ctx.fail(e);
                }
            });
            req.resume();
        };
    }

    /** The upload budget is spent: 503 with a hint when to retry, before any of the body is read. */
    private void refuseBusy(RoutingContext ctx) {
        metrics.uploadsRefused.increment();
        ctx.response().putHeader("Retry-After", "1");
        ctx.fail(new Errors.HttpError(503, "busy", "the store is holding " + (uploads.used() >> 20) + " MiB of uploads in memory,"
                + " its limit (" + (uploads.total() >> 20) + " MiB, half of it per token); retry in a moment"));
    }

    static byte[] body(RoutingContext ctx) {
        byte[] exact = ctx.get(EXACT_BODY);
        if (exact != null) {
            return exact;
        }
        Buffer b = ctx.body().buffer();
        return b == null ? new byte[0] : b.getBytes();
    }

    /** Closes the worker pool. */
    public void close() {
        worker.close();
    }
}
