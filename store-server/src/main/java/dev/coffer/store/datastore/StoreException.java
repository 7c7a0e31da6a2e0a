package dev.coffer.store.datastore;

import java.io.IOException;

/**
 * A request the datastore refuses, with the class of reason an HTTP client needs (the API maps
 * {@link Kind} to a status code) and a one-line message a person can act on.
 */
public final class StoreException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why a request was refused; each maps to one HTTP status. */
    public enum Kind {
        /** malformed input: 400 */
        BAD_REQUEST(400),
        /** the principal may not: 403 */
        FORBIDDEN(403),
        /** no such datastore, group, restore point, session: 404 */
        NOT_FOUND(404),
        /** a group already being written, a time not newer than the newest: 409 */
        CONFLICT(409),
        /** the datastore's filesystem is full: 507 */
        FULL(507);

        public final int status;

        Kind(int status) {
            this.status = status;
        }
    }

    private final Kind kind;
    private final String code;

    public StoreException(Kind kind, String code, String message) {
        super(message);
        this.kind = kind;
        this.code = code;
    }

    public StoreException(Kind kind, String code, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.code = code;
    }

    public Kind kind() {
        return kind;
    }

    /** A stable machine-readable error code, such as {@code group-busy}. */
    public String code() {
        return code;
    }

    public static StoreException badRequest(String code, String message) {
        return new StoreException(Kind.BAD_REQUEST, code, message);
    }

    public static StoreException notFound(String code, String message) {
        return new StoreException(Kind.NOT_FOUND, code, message);
    }

    public static StoreException conflict(String code, String message) {
        return new StoreException(Kind.CONFLICT, code, message);
    }

    /** True when {@code e} (or a cause) is the filesystem running out of space or quota. */
    public static boolean isDiskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (t instanceof IOException && m != null
                    && (m.contains("No space left on device") || m.contains("Disk quota exceeded") || m.contains("NoSpace"))) {
                return true;
            }
        }
        return false;
    }
}
