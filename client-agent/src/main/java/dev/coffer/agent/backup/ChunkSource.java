package dev.coffer.agent.backup;

import java.io.IOException;

/**
 * One disk as the backup pipeline reads it: chunk by chunk, in order, told which chunks are
 * known to be zero without reading them. Files (holes via SEEK_HOLE) implement it now; NBD
 * sources (ZERO extents of base:allocation, dirty bitmaps) will.
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

    @Override
    void close() throws IOException;
}
