package dev.coffer.agent.io;

import dev.coffer.chunker.FixedIndex;
import java.io.IOException;

/**
 * Which chunks of a {@link FileSource} hold data and which are entirely hole, for a backup that walks
 * the chunks in order.
 *
 * <p>Why a cursor and not a per-chunk question: asking the filesystem for every chunk would cost a
 * syscall per chunk even inside a 100 GiB hole or a 100 GiB data extent. The map keeps the current
 * data extent {@code [dataStart, dataEnd)} and asks again only when a chunk starts at or past
 * {@code dataEnd}: one {@code SEEK_DATA} jumps over any run of hole chunks and one {@code SEEK_HOLE}
 * finds where the data ends. A walk in order therefore costs at most two calls per data extent, and
 * never more than two per chunk that holds data. Asking about an earlier chunk is allowed; it
 * restarts the search there.
 *
 * <p>A chunk that holds data may still read as all zeros (written zeros, or a partly allocated
 * block); the reader's zero check catches those. Not thread-safe: one map per walking thread.
 */
public final class ChunkMap {

    private final FileSource source;
    private final int chunkSize;
    private final long chunkCount;
    /** Where the current extent was searched from; the cache answers only for chunks at or after it. */
    private long searchedFrom = -1;
    /** The first data extent at or after {@link #searchedFrom}; {@code dataStart == size} if none. */
    private long dataStart;
    private long dataEnd;

    ChunkMap(FileSource source, int chunkSize) {
        this.source = source;
        this.chunkSize = chunkSize;
        this.chunkCount = FixedIndex.chunkCount(source.size(), chunkSize);
    }

    /** The number of chunks, the last one possibly shorter. */
    public long chunkCount() {
        return chunkCount;
    }

    /** The chunk size this map was made for. */
    public int chunkSize() {
        return chunkSize;
    }

    /**
     * Whether chunk {@code index} is entirely hole: it reads as zeros and need not be read.
     *
     * @throws IndexOutOfBoundsException if there is no chunk {@code index}
     */
    public boolean isHole(long index) throws IOException {
        long start = index * chunkSize;
        long end = start + FixedIndex.chunkLength(source.size(), chunkSize, index);
        seek(start);
        return dataStart >= end;
    }

    /**
     * The first chunk at or after {@code index} that holds data, or {@link #chunkCount()} if only
     * holes follow: lets a walk jump over a long run of hole chunks in one step.
     *
     * @throws IndexOutOfBoundsException if {@code index} is negative or past {@link #chunkCount()}
     */
    public long nextDataChunk(long index) throws IOException {
        if (index < 0 || index > chunkCount) {
            throw new IndexOutOfBoundsException("chunk " + index + " of an image with " + chunkCount + " chunks");
        }
        if (index == chunkCount) {
            return chunkCount;
        }
        long start = index * chunkSize;
        seek(start);
        if (dataStart >= source.size()) {
            return chunkCount;
        }
        return Math.max(index, dataStart / chunkSize);
    }

    /** Makes the cached extent the first one that ends after {@code offset}. */
    private void seek(long offset) throws IOException {
        if (searchedFrom >= 0 && offset >= searchedFrom && offset < dataEnd) {
            return;
        }
        searchedFrom = offset;
        dataStart = source.nextData(offset);
        dataEnd = dataStart >= source.size() ? source.size() : source.nextHole(dataStart);
    }
}
