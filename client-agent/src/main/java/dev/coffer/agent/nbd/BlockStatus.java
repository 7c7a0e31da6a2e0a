package dev.coffer.agent.nbd;

import java.util.List;
import java.util.Map;

/**
 * The status of a byte range in each selected metadata context: for {@code base:allocation} which
 * parts are data, holes or known zeros, for a {@code qemu:dirty-bitmap:NAME} which parts changed
 * since the checkpoint. Each context's extents are in order, adjacent, merged where the flags are
 * equal; from {@link NbdClient#blockStatus} they cover exactly {@code [offset, offset + length)},
 * from {@link NbdClient#blockStatusAsync} (one request) each may stop short of the end. The backup intersects them to decide
 * what to read and what to record as zero without reading.
 *
 * @param offset the first byte described
 * @param length the number of bytes described
 * @param extents per context name, the extents covering the range
 */
public record BlockStatus(long offset, long length, Map<String, List<Extent>> extents) {

    /** The context every server offers. */
    public static final String BASE_ALLOCATION = "base:allocation";
    /** Prefix of QEMU's dirty bitmap contexts; the bitmap name follows. */
    public static final String DIRTY_BITMAP_PREFIX = "qemu:dirty-bitmap:";
    /** {@code base:allocation}: not allocated; contents unknown unless {@link #ZERO} is set too. */
    public static final int HOLE = 0x1;
    /** {@code base:allocation}: reads as zeros (the only bit that guarantees it). */
    public static final int ZERO = 0x2;
    /** {@code qemu:dirty-bitmap:*}: changed since the bitmap was created. */
    public static final int DIRTY = 0x1;

    /** Copies the map; lists are already immutable. */
    public BlockStatus {
        extents = Map.copyOf(extents);
    }

    /**
     * The extents of one context.
     *
     * @throws IllegalArgumentException if the context was not selected on this connection
     */
    public List<Extent> of(String context) {
        List<Extent> list = extents.get(context);
        if (list == null) {
            throw new IllegalArgumentException("metadata context '" + context + "' was not selected; selected: "
                    + extents.keySet());
        }
        return list;
    }
}
