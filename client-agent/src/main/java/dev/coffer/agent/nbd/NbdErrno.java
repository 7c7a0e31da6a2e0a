package dev.coffer.agent.nbd;

/**
 * The error values an NBD server may put in a reply. They are the Linux errno numbers, but the
 * protocol fixes them independently of the platform, so a Java client can name them without
 * native code. The spec says to treat any other value as {@link #EINVAL}; {@link #of} does that.
 */
public enum NbdErrno {
    /** Not permitted (e.g. a write to a read-only export on servers that follow the spec). */
    EPERM(1),
    /** Input/output error on the server's storage. */
    EIO(5),
    /** The server is out of memory. */
    ENOMEM(12),
    /** Invalid request: past the end of the export, misaligned, too long, or a broken view. */
    EINVAL(22),
    /** The server's storage is full. */
    ENOSPC(28),
    /** The request's length does not fit the server's reply. */
    EOVERFLOW(75),
    /** Not supported, e.g. FAST_ZERO when zeroing is not cheap. */
    ENOTSUP(95),
    /** The server is shutting down: finish in-flight requests and disconnect. */
    ESHUTDOWN(108);

    private final int code;

    NbdErrno(int code) {
        this.code = code;
    }

    /** The value on the wire. */
    public int code() {
        return code;
    }

    /**
     * Maps a wire value to its name; unknown values become {@link #EINVAL}, as the spec asks.
     *
     * @param code the error field of a reply, not zero
     * @return the matching error, or EINVAL
     */
    public static NbdErrno of(int code) {
        for (NbdErrno e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return EINVAL;
    }

    /**
     * Whether retrying the same request on the same export cannot help (full storage, a refused
     * or unsupported request); EIO and ESHUTDOWN may be transient.
     */
    public boolean isPermanent() {
        return this == EPERM || this == EINVAL || this == ENOSPC || this == ENOTSUP || this == EOVERFLOW;
    }
}
