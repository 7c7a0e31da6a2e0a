package dev.coffer.agent.nbd;

import java.io.IOException;
import java.util.Optional;

/**
 * Anything that went wrong talking to an NBD server: a refused option during the handshake, an
 * error in a reply, a broken protocol stream or a lost connection. The message always names the
 * export, and for requests the command, offset and length, so a failed backup tells the operator
 * which disk and which region without a debugger. {@link #errno()} carries the server's error when
 * there was one, so callers can tell a full disk (ENOSPC, permanent) from a read error (EIO).
 */
public sealed class NbdException extends IOException permits NbdTimeoutException {

    private static final long serialVersionUID = 1L;

    private final String export;
    private final transient NbdCommand command;
    private final long offset;
    private final long length;
    private final transient NbdErrno errno;

    /**
     * @param message the full message, already naming export and request
     * @param export the export name ("" for the default export)
     * @param command the failed command, or null for handshake and connection failures
     * @param offset the request's offset (-1 when there is no request)
     * @param length the request's length (-1 when there is no request)
     * @param errno the server's error, or null when the server sent none
     * @param cause the underlying failure, or null
     */
    NbdException(String message, String export, NbdCommand command, long offset, long length,
            NbdErrno errno, Throwable cause) {
        super(message, cause);
        this.export = export;
        this.command = command;
        this.offset = offset;
        this.length = length;
        this.errno = errno;
    }

    /** A failure outside any request: handshake, option refusal, protocol violation. */
    static NbdException connection(String export, String what, Throwable cause) {
        return new NbdException("NBD export '" + export + "': " + what, export, null, -1, -1, null, cause);
    }

    /** The server answered a request with an error. */
    static NbdException reply(String export, NbdCommand command, long offset, long length,
            NbdErrno errno, String serverMessage) {
        String msg = describe(export, command, offset, length) + " failed: " + errno
                + (serverMessage == null || serverMessage.isEmpty() ? "" : " (" + serverMessage + ")");
        return new NbdException(msg, export, command, offset, length, errno, null);
    }

    /** A request that could not complete because of something else (lost connection, bad reply). */
    static NbdException request(String export, NbdCommand command, long offset, long length,
            String what, NbdErrno errno, Throwable cause) {
        return new NbdException(describe(export, command, offset, length) + " failed: " + what,
                export, command, offset, length, errno, cause);
    }

    static String describe(String export, NbdCommand command, long offset, long length) {
        return "NBD export '" + export + "': " + command + " offset=" + offset + " length=" + length;
    }

    /** The export the failure concerns ("" for the default export). */
    public String export() {
        return export;
    }

    /** The command that failed, if the failure belongs to a request. */
    public Optional<NbdCommand> command() {
        return Optional.ofNullable(command);
    }

    /** The failed request's offset, or -1 when the failure belongs to no request. */
    public long offset() {
        return offset;
    }

    /** The failed request's length, or -1 when the failure belongs to no request. */
    public long length() {
        return length;
    }

    /** The error the server sent, if it sent one. */
    public Optional<NbdErrno> errno() {
        return Optional.ofNullable(errno);
    }
}
