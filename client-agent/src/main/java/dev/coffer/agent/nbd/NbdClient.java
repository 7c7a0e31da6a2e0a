package dev.coffer.agent.nbd;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A client for one NBD export, used by the backup to read a QEMU point-in-time view (and its dirty
 * bitmap) and by restore to write into an NBD target. Plain blocking sockets, no framework: the
 * handshake selects structured replies and the metadata contexts and learns the export's limits;
 * then any thread may submit requests, up to as many at once as the caller likes, and a single
 * reader thread completes their futures as replies arrive in any order.
 *
 * <p>Every {@code …Async} method returns at once (it blocks only while the socket's send buffer is
 * full) with a future that completes on the reader thread: keep callbacks short and never wait for
 * another NBD reply inside one. Requests larger than the server's maximum payload are split and
 * their parts sent back to back. The blocking variants wait for the reply and throw
 * {@link NbdException}. Offsets and lengths must be multiples of the export's minimum block size;
 * ranges past the end are left to the server, which answers EINVAL.
 *
 * <p>A connection whose server stays silent for the timeout while requests are pending is closed
 * and every pending request fails with {@link NbdTimeoutException}; so does every protocol
 * violation. The client is then unusable; open a new one.
 */
public final class NbdClient implements AutoCloseable {

    /** WRITE_ZEROES and TRIM carry no payload, so they may be long; this keeps them within 32 bits. */
    static final long NO_PAYLOAD_SPLIT = 1L << 30;
    /** One BLOCK_STATUS request covers at most this much (the length field is 32-bit). */
    static final int BLOCK_STATUS_WINDOW = 1 << 30;

    private final NbdUri uri;
    private final NbdClientOptions options;
    private final NbdConnection connection;
    private final ExportInfo info;

    private NbdClient(NbdUri uri, NbdClientOptions options, NbdConnection connection) {
        this.uri = uri;
        this.options = options;
        this.connection = connection;
        this.info = connection.info();
    }

    /**
     * Connects with the default options: {@code base:allocation}, 60 s timeout.
     *
     * @throws NbdException if the server cannot be reached or refuses the export
     */
    public static NbdClient connect(NbdUri uri) throws NbdException {
        return connect(uri, NbdClientOptions.defaults());
    }

    /**
     * Connects and negotiates: structured replies, the options' metadata contexts (every one must be
     * offered, or the connection fails naming the missing one), then the export with its block sizes.
     *
     * @param uri where the export is
     * @param options contexts and timeouts
     * @return a client in the transmission phase
     * @throws NbdException if the server cannot be reached, is not an NBD server, does not know the
     *     export or does not offer a requested context; the message carries the server's own text
     */
    public static NbdClient connect(NbdUri uri, NbdClientOptions options) throws NbdException {
        return new NbdClient(uri, options, NbdConnection.open(uri, options));
    }

    /** Where this client is connected. */
    public NbdUri uri() {
        return uri;
    }

    /** Size, flags and block size limits of the export. */
    public ExportInfo info() {
        return info;
    }

    /** The selected metadata context names, in the order they were asked for. */
    public List<String> metaContexts() {
        Collection<String> selected = connection.contexts().values();
        return options.metaContexts().stream().filter(selected::contains).toList();
    }

    /** Requests sent and not yet answered. */
    public int inFlight() {
        return connection.inFlight();
    }

    // ------------------------------------------------------------------ READ

    /**
     * Reads {@code length} bytes at {@code offset} into {@code dst[dstOffset…]}. Holes the server
     * reports are filled with zeros; data is read from the socket straight into the array.
     *
     * @return a future completing when every byte is in place, or failing with {@link NbdException}
     */
    public CompletableFuture<Void> readAsync(long offset, byte[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        checkRange(NbdCommand.READ, offset, length);
        int max = info.maximumPayload();
        if (length <= max) {
            return connection.submit(NbdCommand.READ, 0, offset, length, dst, dstOffset).future;
        }
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (int done = 0; done < length; done += max) {
            int n = Math.min(max, length - done);
            parts.add(connection.submit(NbdCommand.READ, 0, offset + done, n, dst, dstOffset + done).future);
        }
        return all(parts);
    }

    /** Blocking {@link #readAsync}. */
    public void read(long offset, byte[] dst, int dstOffset, int length) throws NbdException {
        await(readAsync(offset, dst, dstOffset, length), NbdCommand.READ, offset, length);
    }

    // ------------------------------------------------------------------ WRITE

    /**
     * Writes {@code src[srcOffset…srcOffset+length)} at {@code offset}. The array must not change
     * until the future completes (it is sent from the caller's thread, but a split write's later
     * parts may still be queued behind a full socket).
     *
     * @return a future completing when the server acknowledged every part
     */
    public CompletableFuture<Void> writeAsync(long offset, byte[] src, int srcOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        checkRange(NbdCommand.WRITE, offset, length);
        if (info.readOnly()) {
            return refused(NbdCommand.WRITE, offset, length, NbdErrno.EPERM, "the export is read-only");
        }
        int max = info.maximumPayload();
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (int done = 0; done < length; done += max) {
            int n = Math.min(max, length - done);
            parts.add(connection.submit(NbdCommand.WRITE, 0, offset + done, n, src, srcOffset + done).future);
        }
        return all(parts);
    }

    /** Blocking {@link #writeAsync}. */
    public void write(long offset, byte[] src, int srcOffset, int length) throws NbdException {
        await(writeAsync(offset, src, srcOffset, length), NbdCommand.WRITE, offset, length);
    }

    // ------------------------------------------------------------------ WRITE_ZEROES, TRIM, FLUSH

    /**
     * Makes a range read as zeros without sending them. With {@code noHole} the server must keep the
     * range allocated; without it, it may punch a hole (QEMU does with {@code --discard=unmap}).
     *
     * @return a future failing with ENOTSUP (without asking the server) if the export lacks
     *     WRITE_ZEROES; the caller then writes zero buffers
     */
    public CompletableFuture<Void> writeZeroesAsync(long offset, long length, boolean noHole) {
        checkRange(NbdCommand.WRITE_ZEROES, offset, length);
        if (info.readOnly() || !info.canWriteZeroes()) {
            return refused(NbdCommand.WRITE_ZEROES, offset, length, info.readOnly() ? NbdErrno.EPERM : NbdErrno.ENOTSUP,
                    info.readOnly() ? "the export is read-only" : "the export does not support WRITE_ZEROES");
        }
        return splitNoPayload(NbdCommand.WRITE_ZEROES, noHole ? NbdProtocol.CMD_FLAG_NO_HOLE : 0, offset, length);
    }

    /** Blocking {@link #writeZeroesAsync}. */
    public void writeZeroes(long offset, long length, boolean noHole) throws NbdException {
        await(writeZeroesAsync(offset, length, noHole), NbdCommand.WRITE_ZEROES, offset, length);
    }

    /**
     * Tells the server a range is no longer needed. Only a hint: the range's contents afterwards are
     * undefined, so restore never uses it for zero chunks.
     *
     * @return a future failing with ENOTSUP if the export lacks TRIM
     */
    public CompletableFuture<Void> trimAsync(long offset, long length) {
        checkRange(NbdCommand.TRIM, offset, length);
        if (info.readOnly() || !info.canTrim()) {
            return refused(NbdCommand.TRIM, offset, length, info.readOnly() ? NbdErrno.EPERM : NbdErrno.ENOTSUP,
                    info.readOnly() ? "the export is read-only" : "the export does not support TRIM");
        }
        return splitNoPayload(NbdCommand.TRIM, 0, offset, length);
    }

    /** Blocking {@link #trimAsync}. */
    public void trim(long offset, long length) throws NbdException {
        await(trimAsync(offset, length), NbdCommand.TRIM, offset, length);
    }

    /**
     * Makes every write whose reply has already arrived durable. Writes still in flight are not
     * covered: wait for them first.
     *
     * @return a future failing with ENOTSUP if the export lacks FLUSH
     */
    public CompletableFuture<Void> flushAsync() {
        if (!info.canFlush()) {
            return refused(NbdCommand.FLUSH, 0, 0, NbdErrno.ENOTSUP, "the export does not support FLUSH");
        }
        return connection.submit(NbdCommand.FLUSH, 0, 0, 0, null, 0).future;
    }

    /** Blocking {@link #flushAsync}. */
    public void flush() throws NbdException {
        await(flushAsync(), NbdCommand.FLUSH, 0, 0);
    }

    // ------------------------------------------------------------------ BLOCK_STATUS

    /**
     * One BLOCK_STATUS request. The server may describe less than asked (QEMU stops after 131072
     * extents), and each context independently: each context's list starts at {@code offset} and
     * ends at or before {@code offset + length}. {@link #blockStatus} walks a whole range.
     */
    public CompletableFuture<BlockStatus> blockStatusAsync(long offset, int length) {
        checkRange(NbdCommand.BLOCK_STATUS, offset, length);
        if (connection.contexts().isEmpty()) {
            throw new IllegalStateException("no metadata context was selected for export '" + info.name()
                    + "'; BLOCK_STATUS needs at least one (NbdClientOptions.metaContexts)");
        }
        InFlight p = connection.submit(NbdCommand.BLOCK_STATUS, 0, offset, length, null, 0);
        return p.future.thenApply(v -> new BlockStatus(offset, length, p.status));
    }

    /**
     * The status of {@code [offset, offset + length)} in every selected context, walking it with as
     * many requests as the server needs, in windows of at most 1 GiB. Each context's extents cover
     * exactly the range, in order, merged where adjacent extents have equal flags.
     *
     * @throws NbdException on a server error, or if a reply makes no progress
     */
    public BlockStatus blockStatus(long offset, long length) throws NbdException {
        checkRange(NbdCommand.BLOCK_STATUS, offset, length);
        Map<String, List<Extent>> result = new HashMap<>();
        for (String c : connection.contexts().values()) {
            result.put(c, new ArrayList<>());
        }
        long end = offset + length;
        long pos = offset;
        while (pos < end) {
            int window = (int) Math.min(end - pos, BLOCK_STATUS_WINDOW);
            BlockStatus part = await(blockStatusAsync(pos, window), NbdCommand.BLOCK_STATUS, pos, window);
            // Contexts are answered independently: advance by the least any of them covered.
            long covered = window;
            for (List<Extent> list : part.extents().values()) {
                covered = Math.min(covered, list.isEmpty() ? 0 : list.getLast().end() - pos);
            }
            if (pos + covered < end) {
                covered -= covered % info.minimumBlock();
            }
            if (covered <= 0) {
                throw NbdException.request(info.name(), NbdCommand.BLOCK_STATUS, pos, window,
                        "the server's reply described no aligned bytes, so the walk cannot advance", null, null);
            }
            long stop = pos + covered;
            for (Map.Entry<String, List<Extent>> e : part.extents().entrySet()) {
                List<Extent> into = result.get(e.getKey());
                for (Extent x : e.getValue()) {
                    if (x.offset() >= stop) {
                        break;
                    }
                    append(into, new Extent(x.offset(), Math.min(x.end(), stop) - x.offset(), x.flags()));
                }
            }
            pos = stop;
        }
        Map<String, List<Extent>> frozen = new HashMap<>();
        result.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        return new BlockStatus(offset, length, frozen);
    }

    private static void append(List<Extent> list, Extent x) {
        if (!list.isEmpty()) {
            Extent last = list.getLast();
            if (last.end() == x.offset() && last.flags() == x.flags()) {
                list.set(list.size() - 1, new Extent(last.offset(), last.length() + x.length(), x.flags()));
                return;
            }
        }
        list.add(x);
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Sends NBD_CMD_DISC, lets the server answer requests still in flight (up to the timeout, at most
     * 5 s), then closes the socket; anything still unanswered fails.
     */
    @Override
    public void close() {
        Duration grace = options.timeout().compareTo(Duration.ofSeconds(5)) < 0 ? options.timeout() : Duration.ofSeconds(5);
        connection.close(grace);
    }

    @Override
    public String toString() {
        return "NbdClient[" + uri + ", " + info + "]";
    }

    // ------------------------------------------------------------------ helpers

    private CompletableFuture<Void> splitNoPayload(NbdCommand command, int flags, long offset, long length) {
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (long done = 0; done < length; done += NO_PAYLOAD_SPLIT) {
            long n = Math.min(NO_PAYLOAD_SPLIT, length - done);
            parts.add(connection.submit(command, flags, offset + done, n, null, 0).future);
        }
        return all(parts);
    }

    private void checkRange(NbdCommand command, long offset, long length) {
        if (offset < 0 || length <= 0 || offset > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException(NbdException.describe(info.name(), command, offset, length)
                    + ": offset must be ≥ 0 and length > 0");
        }
        int min = info.minimumBlock();
        if (offset % min != 0 || length % min != 0) {
            throw new IllegalArgumentException(NbdException.describe(info.name(), command, offset, length)
                    + ": offset and length must be multiples of the export's minimum block size " + min);
        }
    }

    private CompletableFuture<Void> refused(NbdCommand command, long offset, long length, NbdErrno errno, String why) {
        return CompletableFuture.failedFuture(NbdException.request(info.name(), command, offset, length,
                why + " (refused by the client)", errno, null));
    }

    private static CompletableFuture<Void> all(List<CompletableFuture<Void>> parts) {
        return parts.size() == 1 ? parts.getFirst() : CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
    }

    private <T> T await(CompletableFuture<T> future, NbdCommand command, long offset, long length) throws NbdException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw NbdException.request(info.name(), command, offset, length, "interrupted while waiting for the reply",
                    null, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException ce && ce.getCause() != null
                    ? ce.getCause() : e.getCause();
            if (cause instanceof NbdException nbd) {
                throw nbd;
            }
            throw NbdException.request(info.name(), command, offset, length, String.valueOf(cause), null, cause);
        }
    }
}
