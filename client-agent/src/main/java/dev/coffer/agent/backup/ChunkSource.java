package dev.coffer.agent.backup;

import java.io.IOException;

/**
 * One disk as the backup pipeline reads it: chunk by chunk, in order, told which chunks are
 * known to be zero without reading them and — when the source has a dirty bitmap — which chunks
 * did not change since the bitmap was started. Files (holes via SEEK_HOLE) and NBD exports (ZERO
 * extents of {@code base:allocation}, a {@code qemu:dirty-bitmap:NAME}) implement it.
 *
 * <p>The pipeline asks about chunks mostly in increasing order; sources may keep only a window
 * of status around the last chunk asked about, but must answer any index (the sample before an
 * incremental backup asks about chunks anywhere).
 */
public interface ChunkSource extends AutoCloseable {

    /** The disk size in bytes. */
    long size() throws IOException;

    /** True when chunk {@code index} is known to read as zeros (a hole): it is not read at all. */
    boolean isZeroChunk(long index) throws IOException;

    /**
     * Reads chunk {@code index} into {@code buf}.
     *
     * @return the chunk's length (the chunk size, or less for the last)
     */
    int readChunk(long index, byte[] buf) throws IOException;

    /**
     * Whether this source carries a dirty bitmap, so that {@link #isClean} means something. Without
     * one the backup reads every allocated chunk ({@code diff} mode, reason {@code no-bitmap}).
     */
    default boolean hasDirtyBitmap() {
        return false;
    }

    /**
     * True when the dirty bitmap says no byte of chunk {@code index} changed since it was started, so
     * the chunk may be taken from the base without reading it. False when any byte is dirty, and
     * always false without a bitmap.
     */
    default boolean isClean(long index) throws IOException {
        return false;
    }

    @Override
    void close() throws IOException;
}
