package dev.coffer.agent.nbd;

/**
 * The transmission-phase commands, with their wire values. Public because every
 * {@link NbdException} from a request names the command that failed.
 */
public enum NbdCommand {
    /** Read data; the reply carries it. */
    READ(0),
    /** Write data that follows the request header. */
    WRITE(1),
    /** Disconnect: the server finishes in-flight requests and closes; no reply. */
    DISC(2),
    /** Make completed writes durable. */
    FLUSH(3),
    /** Discard a range; its contents afterwards are undefined. */
    TRIM(4),
    /** Write zeroes without sending them. */
    WRITE_ZEROES(6),
    /** Ask for the status (allocation, dirtiness) of a range per metadata context. */
    BLOCK_STATUS(7);

    private final int code;

    NbdCommand(int code) {
        this.code = code;
    }

    /** The value of the request's type field. */
    public int code() {
        return code;
    }
}
