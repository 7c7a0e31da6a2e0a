package dev.coffer.agent.backup;

import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * Chunk-sized buffers reused across a pipeline: a 4 MiB array per chunk read would otherwise be
 * garbage a few milliseconds later, and the collector's pauses show up in backup throughput. At
 * most {@code capacity} buffers ever exist, allocated on first need; one more than the chunks in
 * flight is enough for the reader never to wait on itself.
 */
final class ChunkBuffers {

    private final ArrayBlockingQueue<byte[]> free;
    private final int chunkSize;
    private final int capacity;
    private int allocated;

    ChunkBuffers(int chunkSize, int capacity) {
        this.chunkSize = chunkSize;
        this.capacity = capacity;
        this.free = new ArrayBlockingQueue<>(capacity);
    }

    /** A free buffer, allocating one while under capacity, else waiting for one to come back. */
    byte[] take() throws InterruptedIOException {
        byte[] b = free.poll();
        if (b != null) {
            return b;
        }
        synchronized (this) {
            if (allocated < capacity) {
                allocated++;
                return new byte[chunkSize];
            }
        }
        try {
            return free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a chunk buffer");
        }
    }

    /** Returns a buffer for reuse. */
    void give(byte[] b) {
        free.offer(b);
    }
}
