package dev.coffer.store.api;

import java.io.IOException;

/**
 * The store refused a request, or could not be reached. For a refusal {@link #status()} and
 * {@link #code()} are the server's; for a transport failure the status is 0.
 */
public final class StoreClientException extends IOException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final String code;

    public StoreClientException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public StoreClientException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
        this.code = "transport";
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }
}
