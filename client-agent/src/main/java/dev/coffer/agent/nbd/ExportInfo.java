package dev.coffer.agent.nbd;

/**
 * What the server said about the export during NBD_OPT_GO: its size, what it allows (transmission
 * flags) and the block size limits every request must keep to. The client checks its own requests
 * against this so a mistake fails locally with a clear message instead of making the server drop
 * the connection (QEMU drops it on a WRITE over the maximum payload).
 *
 * @param name the export name ("" for the default export)
 * @param size the export size in bytes
 * @param flags the raw transmission flags (NBD_FLAG_*)
 * @param minimumBlock offsets and lengths must be multiples of this (a power of two, 1 when unknown)
 * @param preferredBlock requests aligned to and at least this large avoid read-modify-write
 * @param maximumPayload the largest READ or WRITE the server accepts
 */
public record ExportInfo(String name, long size, int flags, int minimumBlock, int preferredBlock,
        int maximumPayload) {

    public static final int HAS_FLAGS = 0x1;
    public static final int READ_ONLY = 0x2;
    public static final int SEND_FLUSH = 0x4;
    public static final int SEND_FUA = 0x8;
    public static final int ROTATIONAL = 0x10;
    public static final int SEND_TRIM = 0x20;
    public static final int SEND_WRITE_ZEROES = 0x40;
    public static final int SEND_DF = 0x80;
    public static final int CAN_MULTI_CONN = 0x100;
    public static final int SEND_CACHE = 0x400;
    public static final int SEND_FAST_ZERO = 0x800;

    /** Rejects limits that break the spec's rules (powers of two, min ≤ preferred ≤ max). */
    public ExportInfo {
        if (size < 0) {
            throw new IllegalArgumentException("export '" + name + "' has a negative size " + size);
        }
        if (minimumBlock < 1 || Integer.bitCount(minimumBlock) != 1 || minimumBlock > 64 * 1024
                || preferredBlock < minimumBlock || Integer.bitCount(preferredBlock) != 1
                || maximumPayload < minimumBlock) {
            throw new IllegalArgumentException("export '" + name + "' has invalid block sizes: minimum "
                    + minimumBlock + ", preferred " + preferredBlock + ", maximum " + maximumPayload);
        }
    }

    /** Writes, zeroing and trimming are refused. */
    public boolean readOnly() {
        return (flags & READ_ONLY) != 0;
    }

    /** FLUSH is supported. */
    public boolean canFlush() {
        return (flags & SEND_FLUSH) != 0;
    }

    /** The FUA flag (force unit access) is supported on writes. */
    public boolean canFua() {
        return (flags & SEND_FUA) != 0;
    }

    /** TRIM is supported. */
    public boolean canTrim() {
        return (flags & SEND_TRIM) != 0;
    }

    /** WRITE_ZEROES is supported. */
    public boolean canWriteZeroes() {
        return (flags & SEND_WRITE_ZEROES) != 0;
    }

    /** WRITE_ZEROES accepts the FAST_ZERO flag. */
    public boolean canFastZero() {
        return (flags & SEND_FAST_ZERO) != 0;
    }

    /** READ accepts the DF (don't fragment) flag. */
    public boolean canDf() {
        return (flags & SEND_DF) != 0;
    }

    /** CACHE (prefetch) is supported. */
    public boolean canCache() {
        return (flags & SEND_CACHE) != 0;
    }

    /** Several connections see each other's completed writes, and one FLUSH covers them all. */
    public boolean canMultiConn() {
        return (flags & CAN_MULTI_CONN) != 0;
    }

    /** The server says the storage is a spinning disk (sequential access pays). */
    public boolean rotational() {
        return (flags & ROTATIONAL) != 0;
    }

    @Override
    public String toString() {
        StringBuilder f = new StringBuilder();
        if (readOnly()) f.append(" read-only");
        if (canFlush()) f.append(" flush");
        if (canFua()) f.append(" fua");
        if (canTrim()) f.append(" trim");
        if (canWriteZeroes()) f.append(" write-zeroes");
        if (canFastZero()) f.append(" fast-zero");
        if (canDf()) f.append(" df");
        if (canMultiConn()) f.append(" multi-conn");
        if (canCache()) f.append(" cache");
        if (rotational()) f.append(" rotational");
        return "export '" + name + "' size " + size + " block sizes " + minimumBlock + "/" + preferredBlock
                + "/" + maximumPayload + " flags:" + (f.length() == 0 ? " none" : f);
    }
}
