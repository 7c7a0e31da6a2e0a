package dev.coffer.agent.nbd;

/**
 * One run of bytes with the same status in one metadata context, as BLOCK_STATUS reports it. What
 * the flag bits mean depends on the context: see {@link BlockStatus#HOLE}, {@link BlockStatus#ZERO}
 * for {@code base:allocation} and {@link BlockStatus#DIRTY} for {@code qemu:dirty-bitmap:*}.
 *
 * @param offset the first byte
 * @param length the number of bytes, positive
 * @param flags the context's status bits
 */
public record Extent(long offset, long length, int flags) {

    /** Rejects empty or negative extents. */
    public Extent {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("bad extent offset=" + offset + " length=" + length);
        }
    }

    /** The first byte after the extent. */
    public long end() {
        return offset + length;
    }

    /** Whether every bit of {@code mask} is set. */
    public boolean has(int mask) {
        return (flags & mask) == mask;
    }
}
