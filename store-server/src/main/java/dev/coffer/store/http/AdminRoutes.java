package dev.coffer.store.http;

import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.ApiTypes.ProtectRequest;
import dev.coffer.store.api.ApiTypes.TokenCreateRequest;
import dev.coffer.store.api.Wire;
import dev.coffer.store.datastore.DatastoreService;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** Routes that change or remove what exists: delete and protect restore points, manage tokens. */
final class AdminRoutes {

    private static final String DS = "/api/v1/datastores/:ds";
    private final HttpApi api;

    AdminRoutes(HttpApi api) {
        this.api = api;
    }

    void mount(Router r) {
        r.delete(DS + "/snapshot").handler(this::delete);
        r.put(DS + "/snapshot/protected").handler(HttpApi.jsonBody()).handler(this::protect);
        r.post("/api/v1/tokens").handler(HttpApi.jsonBody()).handler(ctx -> {
            requireServerAdmin(ctx);
            TokenCreateRequest req = Wire.parse(HttpApi.body(ctx), TokenCreateRequest.class);
            api.blocking(ctx, () -> api.tokens.create(req), created -> HttpApi.json(ctx, 201, created));
        });
        r.get("/api/v1/tokens").handler(ctx -> {
            requireServerAdmin(ctx);
            api.blocking(ctx, api.tokens::list, list -> HttpApi.json(ctx, 200, list));
        });
        r.delete("/api/v1/tokens/:id").handler(ctx -> {
            requireServerAdmin(ctx);
            String id = ctx.pathParam("id");
            api.blocking(ctx, () -> api.tokens.revoke(id), found -> {
                if (found) {
                    ctx.response().setStatusCode(204).end();
                } else {
                    Errors.send(ctx, 404, "no-such-token", "there is no token '" + dev.coffer.chunker.Names.printable(id) + "'");
                }
            });
        });
    }

    private static void requireServerAdmin(RoutingContext ctx) {
        if (!HttpApi.access(ctx).isServerAdmin()) {
            throw Errors.forbidden("manage tokens (an admin token of every datastore may)");
        }
    }

    private void delete(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        SnapshotId s = HttpApi.snapshotParam(ctx);
        if (!HttpApi.access(ctx).mayAdmin(ds.datastore().name(), s.ns())) {
            throw Errors.forbidden("delete restore points (backup tokens never delete)");
        }
        api.blocking(ctx, () -> {
            ds.delete(s);
            return null;
        }, v -> ctx.response().setStatusCode(204).end());
    }

    private void protect(RoutingContext ctx) {
        DatastoreService ds = api.datastore(ctx);
        SnapshotId s = HttpApi.snapshotParam(ctx);
        ProtectRequest req = Wire.parse(HttpApi.body(ctx), ProtectRequest.class);
        if (!HttpApi.access(ctx).mayAdmin(ds.datastore().name(), s.ns())) {
            throw Errors.forbidden("protect restore points");
        }
        api.blocking(ctx, () -> {
            ds.protect(s, req.isProtected());
            return ReadRoutes.info(ds, s);
        }, info -> HttpApi.json(ctx, 200, info));
    }
}
