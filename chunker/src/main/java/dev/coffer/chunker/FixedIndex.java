package dev.coffer.chunker;

/**
 * Arithmetic shared by everyone who sizes a fixed index: the writer, the reader, the server that
 * checks an upload against its announced image size, and the agent that plans a backup.
 *
 * <p>A fixed index is a {@link FileFormats#INDEX_HEADER_LENGTH}-byte header followed by one
 * {@link Digest#LENGTH}-byte digest per chunk; the chunk count follows from the image size and the
 * chunk size alone, so nobody has to trust a count stored in the file (there is none).
 */
public final class FixedIndex {

    private FixedIndex() {}

    /** True for a power of two from {@link FileFormats#MIN_CHUNK_SIZE} to {@link FileFormats#MAX_CHUNK_SIZE}. */
    public static boolean isValidChunkSize(int chunkSize) {
        return chunkSize >= FileFormats.MIN_CHUNK_SIZE
                && chunkSize <= FileFormats.MAX_CHUNK_SIZE
                && Integer.bitCount(chunkSize) == 1;
    }

    /**
     * The number of chunks of an image: {@code ceil(imageSize / chunkSize)}, 0 for an empty image.
     *
     * @throws IllegalArgumentException if the image size is negative or the chunk size is not valid
     */
    public static long chunkCount(long imageSize, int chunkSize) {
        if (imageSize < 0) {
            throw new IllegalArgumentException("image size must not be negative, got " + imageSize);
        }
        if (!isValidChunkSize(chunkSize)) {
            throw new IllegalArgumentException("chunk size must be a power of two from " + FileFormats.MIN_CHUNK_SIZE
                    + " to " + FileFormats.MAX_CHUNK_SIZE + ", got " + chunkSize);
        }
        // imageSize + chunkSize - 1 cannot overflow usefully near Long.MAX_VALUE, so divide first
        return imageSize / chunkSize + (imageSize % chunkSize == 0 ? 0 : 1);
    }

    /** The exact length in bytes of an index file holding {@code chunkCount} digests. */
    public static long fileLength(long chunkCount) {
        if (chunkCount < 0) {
            throw new IllegalArgumentException("chunk count must not be negative, got " + chunkCount);
        }
        return Math.addExact(FileFormats.INDEX_HEADER_LENGTH, Math.multiplyExact(chunkCount, Digest.LENGTH));
    }

    /**
     * The length of chunk {@code index} of an image: {@code chunkSize}, except that the last chunk
     * holds only what is left of the image.
     *
     * @throws IndexOutOfBoundsException if there is no such chunk
     */
    public static int chunkLength(long imageSize, int chunkSize, long index) {
        long count = chunkCount(imageSize, chunkSize);
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("chunk " + index + " of an image with " + count + " chunks");
        }
        return (int) Math.min(chunkSize, imageSize - index * chunkSize);
    }
}
