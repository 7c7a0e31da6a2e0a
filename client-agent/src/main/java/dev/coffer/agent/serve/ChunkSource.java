package dev.coffer.agent.serve;

import java.io.IOException;

/**
 * A disk image cut into fixed-size chunks, as the NBD server reads it: which chunks are zero (known
 * without fetching anything) and the plaintext of the others.
 */
public interface ChunkSource {

    /** The image size in bytes. */
    long size();

    /** Bytes per chunk; the last chunk may be shorter. */
    int chunkSize();

    default long chunkCount() {
        return (size() + chunkSize() - 1) / chunkSize();
    }

    default int chunkLength(long chunk) {
        return (int) Math.min(chunkSize(), size() - chunk * chunkSize());
    }

    /** True when chunk {@code chunk} is all zeros (never fetched). */
    boolean isZero(long chunk) throws IOException;

    /** Bytes of the zero chunks: the part of the disk that is never fetched or copied. */
    default long zeroBytes() throws IOException {
        long zero = 0;
        for (long c = 0; c < chunkCount(); c++) {
            if (isZero(c)) {
                zero += chunkLength(c);
            }
        }
        return zero;
    }

    /**
     * The plaintext of data chunk {@code chunk}, exactly {@link #chunkLength} bytes, verified.
     * Callers must not modify the array (it may be shared through a cache).
     */
    byte[] read(long chunk) throws IOException;
}
