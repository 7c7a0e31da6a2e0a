package dev.coffer.agent.backup;

import dev.coffer.agent.nbd.BlockStatus;
import dev.coffer.agent.nbd.Extent;
import dev.coffer.agent.nbd.ExportInfo;
import dev.coffer.agent.nbd.NbdClient;
import dev.coffer.agent.nbd.NbdClientOptions;
import dev.coffer.agent.nbd.NbdException;
import dev.coffer.agent.nbd.NbdUri;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * An NBD export as a {@link ChunkSource}: the export someone else set up (libvirt pull mode, a
 * {@code qemu-nbd}, an {@code nbdkit}), optionally with the dirty bitmap they exported.
 *
 * <p>Status comes from BLOCK_STATUS in windows of {@link #WINDOW_BYTES} (at least one chunk),
 * fetched when a chunk outside the current window is asked about, so memory is one window's
 * per-chunk flags plus the extents of one reply whatever the disk size. A chunk is zero only when
 * every byte of it is flagged ZERO in {@code base:allocation}: a HOLE without ZERO has unknown
 * contents on NBD (a qcow2 hole over a backing file, say) and is read. A chunk is clean when no
 * byte of it is flagged DIRTY in {@code qemu:dirty-bitmap:NAME}.
 *
 * <p>A chunk is read as several requests of at most {@link #READ_REQUEST} bytes, all in flight
 * at once, straight into the caller's buffer.
 */
public final class NbdChunkSource implements ChunkSource {

    /** How much of the disk one status window describes. */
    static final long WINDOW_BYTES = 64L << 20;
    /** The largest single READ a chunk is split into (DESIGN.md: 256–512 KiB requests). */
    static final int READ_REQUEST = 512 * 1024;

    private final NbdClient client;
    private final String bitmapContext;
    private final int chunkSize;
    private final long size;
    private final long chunks;
    private final int windowChunks;
    private final int readRequest;

    private long windowStart = -1;
    private int windowLength;
    private final boolean[] zero;
    private final boolean[] dirty;

    private NbdChunkSource(NbdClient client, String bitmap, int chunkSize) throws IOException {
        this.client = client;
        this.bitmapContext = bitmap == null ? null : BlockStatus.DIRTY_BITMAP_PREFIX + bitmap;
        this.chunkSize = chunkSize;
        ExportInfo info = client.info();
        this.size = info.size();
        this.chunks = size == 0 ? 0 : (size + chunkSize - 1) / chunkSize;
        int min = info.minimumBlock();
        if (chunkSize % min != 0) {
            throw new IOException("export '" + info.name() + "' has a minimum block size of " + min
                    + " bytes, which does not divide the datastore's chunk size " + chunkSize);
        }
        if (size % min != 0) {
            throw new IOException("export '" + info.name() + "' is " + size + " bytes, not a multiple of its minimum block size "
                    + min + ", so its last bytes cannot be read");
        }
        int request = Math.min(READ_REQUEST, info.maximumPayload());
        request -= request % min;
        this.readRequest = Math.max(min, request);
        this.windowChunks = (int) Math.max(1, WINDOW_BYTES / chunkSize);
        this.zero = new boolean[windowChunks];
        this.dirty = new boolean[windowChunks];
    }

    /**
     * Connects to an export.
     *
     * @param uri where the export is
     * @param bitmap the dirty bitmap the export carries ({@code qemu-nbd -B NAME}, libvirt's
     *     {@code exportbitmap}), or null for none
     * @param chunkSize the datastore's chunk size
     * @throws NbdException if the export cannot be reached, or does not offer the bitmap
     */
    public static NbdChunkSource open(NbdUri uri, String bitmap, int chunkSize) throws IOException {
        return open(uri, bitmap, chunkSize, NbdClientOptions.DEFAULT_TIMEOUT);
    }

    /**
     * Connects to an export, giving up on any request the server leaves unanswered for {@code timeout}.
     *
     * @see #open(NbdUri, String, int)
     */
    public static NbdChunkSource open(NbdUri uri, String bitmap, int chunkSize, java.time.Duration timeout) throws IOException {
        NbdClientOptions options = NbdClientOptions.defaults().withTimeout(timeout);
        if (bitmap != null) {
            options = options.withDirtyBitmap(bitmap);
        }
        NbdClient client;
        try {
            client = NbdClient.connect(uri, options);
        } catch (NbdException e) {
            if (bitmap != null && e.getMessage() != null && e.getMessage().contains(BlockStatus.DIRTY_BITMAP_PREFIX)) {
                throw new IOException("the NBD export " + uri + " does not offer the dirty bitmap '" + bitmap
                        + "' (export it with qemu-nbd -B " + bitmap + ", or take the name libvirt's backup XML gives): "
                        + e.getMessage(), e);
            }
            throw e;
        }
        try {
            return new NbdChunkSource(client, bitmap, chunkSize);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean hasDirtyBitmap() {
        return bitmapContext != null;
    }

    @Override
    public boolean isZeroChunk(long index) throws IOException {
        return zero[slot(index)];
    }

    @Override
    public boolean isClean(long index) throws IOException {
        if (bitmapContext == null) {
            return false;
        }
        return !dirty[slot(index)];
    }

    @Override
    public int readChunk(long index, byte[] buf) throws IOException {
        if (index < 0 || index >= chunks) {
            throw new IllegalArgumentException("chunk " + index + " is outside the disk's " + chunks + " chunks");
        }
        long offset = index * chunkSize;
        int len = (int) Math.min(chunkSize, size - offset);
        List<CompletableFuture<Void>> parts = new ArrayList<>((len + readRequest - 1) / readRequest);
        for (int done = 0; done < len; done += readRequest) {
            parts.add(client.readAsync(offset + done, buf, done, Math.min(readRequest, len - done)));
        }
        try {
            CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading chunk " + index + " from " + client.uri());
        } catch (ExecutionException e) {
            Throwable c = e.getCause() instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            throw new IOException("reading chunk " + index + " from " + client.uri() + ": " + c, c);
        }
        return len;
    }

    /** The chunk's slot in the status window, fetching the window that holds it when needed. */
    private int slot(long index) throws IOException {
        if (index < 0 || index >= chunks) {
            throw new IllegalArgumentException("chunk " + index + " is outside the disk's " + chunks + " chunks");
        }
        if (windowStart < 0 || index < windowStart || index >= windowStart + windowLength) {
            load(index - index % windowChunks);
        }
        return (int) (index - windowStart);
    }

    private void load(long first) throws IOException {
        int n = (int) Math.min(windowChunks, chunks - first);
        long from = first * chunkSize;
        long to = Math.min(size, (first + n) * chunkSize);
        windowStart = -1; // stays invalid if the walk fails
        BlockStatus status = client.blockStatus(from, to - from);
        java.util.Arrays.fill(zero, 0, n, true);
        java.util.Arrays.fill(dirty, 0, n, false);
        for (Extent x : status.of(BlockStatus.BASE_ALLOCATION)) {
            if (!x.has(BlockStatus.ZERO)) {
                mark(zero, false, x, first, n);
            }
        }
        if (bitmapContext != null) {
            for (Extent x : status.of(bitmapContext)) {
                if (x.has(BlockStatus.DIRTY)) {
                    mark(dirty, true, x, first, n);
                }
            }
        }
        windowStart = first;
        windowLength = n;
    }

    private void mark(boolean[] flags, boolean value, Extent x, long first, int n) {
        long a = Math.max(0, x.offset() / chunkSize - first);
        long b = Math.min(n - 1, (x.end() - 1) / chunkSize - first);
        for (long c = a; c <= b; c++) {
            flags[(int) c] = value;
        }
    }

    @Override
    public void close() {
        client.close();
    }

    @Override
    public String toString() {
        return "NbdChunkSource[" + client.uri() + (bitmapContext == null ? "" : ", " + bitmapContext) + "]";
    }
}
