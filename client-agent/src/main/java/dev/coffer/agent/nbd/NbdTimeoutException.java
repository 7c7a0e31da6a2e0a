package dev.coffer.agent.nbd;

import java.time.Duration;

/**
 * The server did not answer a request, or the handshake, within the client's timeout. An NBD
 * request cannot be cancelled, so the client closes the connection: every other request in flight
 * on it fails too, and the caller must reconnect.
 */
public final class NbdTimeoutException extends NbdException {

    private static final long serialVersionUID = 1L;

    private final Duration timeout;

    NbdTimeoutException(String message, String export, NbdCommand command, long offset, long length,
            Duration timeout) {
        super(message, export, command, offset, length, null, null);
        this.timeout = timeout;
    }

    static NbdTimeoutException request(String export, NbdCommand command, long offset, long length,
            Duration timeout) {
        return new NbdTimeoutException(describe(export, command, offset, length)
                + ": no reply within " + seconds(timeout) + " (server silent; connection closed)",
                export, command, offset, length, timeout);
    }

    static NbdTimeoutException handshake(String export, Duration timeout) {
        return new NbdTimeoutException("NBD export '" + export + "': handshake not finished within "
                + seconds(timeout), export, null, -1, -1, timeout);
    }

    /** The timeout that expired. */
    public Duration timeout() {
        return timeout;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
