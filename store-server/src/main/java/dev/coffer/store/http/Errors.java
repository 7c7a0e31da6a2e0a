package dev.coffer.store.http;

import dev.coffer.chunker.FormatException;
import dev.coffer.chunker.Names;
import dev.coffer.store.api.ApiTypes.ApiError;
import dev.coffer.store.api.Wire;
import dev.coffer.store.datastore.StoreException;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one failure handler: every exception becomes a JSON {@code {"error", "message"}} body with
 * the status DESIGN.md promises — 400 bad input, 401 no valid token, 403 a role that may not,
 * 404, 409 conflicts, 413 oversized bodies, 507 a full datastore. Anything else is a bug: 500,
 * logged with its stack trace, with a message that says so.
 */
final class Errors {

    private static final Logger LOG = Logger.getLogger(Errors.class.getName());

    private Errors() {}

    /** Thrown by handlers for a status without an exception of its own. */
    static final class HttpError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final String code;

        HttpError(int status, String code, String message) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
        }
    }

    static HttpError unauthorized() {
        return new HttpError(401, "unauthorized", "no valid token: send 'Authorization: Bearer <token>' (COFFER_TOKEN)");
    }

    static HttpError forbidden(String what) {
        return new HttpError(403, "forbidden", "this token may not " + what);
    }

    static HttpError badRequest(String code, String message) {
        return new HttpError(400, code, message);
    }

    static void handle(RoutingContext ctx) {
        Throwable t = ctx.failure();
        if (ctx.response().closed()) {
            // the client hung up (mid-upload, say): there is no one to answer, and it is not a bug
            LOG.log(Level.FINE, "request " + ctx.request().method() + " " + ctx.request().path() + " ended by the client", t);
            return;
        }
        int status;
        String code;
        String message;
        if (t instanceof HttpError e) {
            status = e.status;
            code = e.code;
            message = e.getMessage();
        } else if (t instanceof StoreException e) {
            status = e.kind().status;
            code = e.code();
            message = e.getMessage();
        } else if (t instanceof Names.InvalidNameException e) {
            status = 400;
            code = "bad-name";
            message = e.getMessage();
        } else if (t instanceof FormatException e) {
            status = 400;
            code = "bad-data";
            message = e.getMessage();
        } else if (t instanceof IllegalArgumentException e && e.getMessage() != null && e.getMessage().startsWith("body is not")) {
            status = 400;
            code = "bad-body";
            message = e.getMessage();
        } else if (t != null && StoreException.isDiskFull(t)) {
            status = 507;
            code = "datastore-full";
            message = "the datastore's filesystem is full: " + t.getMessage() + "; free space (prune + gc) and retry";
        } else if (t == null && ctx.statusCode() == 413) {
            status = 413;
            code = "too-large";
            message = "the request body is larger than this route accepts";
        } else if (t == null && ctx.statusCode() > 0) {
            status = ctx.statusCode();
            code = status == 404 ? "not-found" : "http-" + status;
            message = status == 404 ? "no such route: " + ctx.request().method() + " " + ctx.request().path() : "request failed";
        } else {
            status = 500;
            code = "internal";
            message = "internal error (a bug; the server log has details): " + (t == null ? "unknown" : t);
            LOG.log(Level.SEVERE, "request " + ctx.request().method() + " " + ctx.request().path() + " failed", t);
        }
        send(ctx, status, code, message);
    }

    static void send(RoutingContext ctx, int status, String code, String message) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        if (ctx.response().headWritten()) {
            ctx.response().reset();
            return;
        }
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
                .end(Buffer.buffer(Wire.toBytes(new ApiError(code, message))));
    }
}
