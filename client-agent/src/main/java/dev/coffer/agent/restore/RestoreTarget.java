package dev.coffer.agent.restore;

import java.io.IOException;

/**
 * Where a restore writes one disk: a file or block device, or an NBD export. Writes come from
 * several threads at once, each to its own chunk, so implementations are thread-safe for
 * {@link #write}.
 */
public interface RestoreTarget extends AutoCloseable {

    /** The target's size; at least the disk's (checked when it is opened). */
    long size();

    /** Writes {@code len} bytes at {@code offset}. */
    void write(long offset, byte[] buf, int off, int len) throws IOException;

    /**
     * Makes {@code [offset, offset + len)} read as zeros: nothing when it already does, else a
     * cheap zeroing (hole punch, WRITE_ZEROES) or written zeros — never TRIM, whose contents
     * afterwards are undefined.
     */
    void writeZeroes(long offset, long len) throws IOException;

    /** Makes everything written durable. */
    void flush() throws IOException;

    /** Reads {@code len} bytes at {@code offset} back (for {@code --verify}). */
    void read(long offset, byte[] buf, int len) throws IOException;

    /** For messages: the path or URI. */
    String describe();

    @Override
    void close() throws IOException;

    /** Opens a target once the disk size is known. */
    @FunctionalInterface
    interface Opener {
        RestoreTarget open(long diskSize) throws IOException;
    }
}
