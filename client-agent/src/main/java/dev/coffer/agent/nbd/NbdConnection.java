package dev.coffer.agent.nbd;

import static dev.coffer.agent.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One NBD connection in the transmission phase: callers' threads send requests under a lock, and a
 * single reader thread demultiplexes replies by cookie, so many requests can be in flight. READ
 * data goes from the socket straight into the caller's array. A watchdog closes the connection when
 * requests are pending and the server has sent nothing for the timeout, failing every pending
 * request, because an NBD request cannot be cancelled and a half-read reply leaves the stream
 * unusable.
 */
final class NbdConnection {

    private static final ScheduledExecutorService WATCHDOG = watchdog();
    /** Largest chunk payload other than READ data: 2^20 extents (the spec's limit) or an error message. */
    private static final int MAX_CHUNK_PAYLOAD = 4 + 8 * (1 << 20);

    private final NbdUri uri;
    private final SocketChannel channel;
    private final Duration timeout;
    private final ExportInfo info;
    private final boolean structured;
    private final Map<Integer, String> contexts;
    private final ConcurrentHashMap<Long, InFlight> pending = new ConcurrentHashMap<>();
    private final AtomicLong cookies = new AtomicLong(1);
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ByteBuffer requestHeader = ByteBuffer.allocate(REQUEST_HEADER);
    private final Thread reader;
    private final ScheduledFuture<?> watchdogTask;
    /** nanoTime of the last reply bytes, or of the first request sent into an idle connection. */
    private volatile long lastProgress = System.nanoTime();
    private volatile NbdException failure;
    private volatile boolean closing;

    private NbdConnection(NbdUri uri, SocketChannel channel, Duration timeout, Handshake.Result result) {
        this.uri = uri;
        this.channel = channel;
        this.timeout = timeout;
        this.info = result.info();
        this.structured = result.structuredReplies();
        this.contexts = result.contexts();
        this.reader = Thread.ofPlatform().daemon().name("nbd-reader " + uri).unstarted(this::readLoop);
        long tick = Math.clamp(timeout.toMillis() / 4, 10, 1000);
        this.watchdogTask = WATCHDOG.scheduleWithFixedDelay(this::checkTimeout, tick, tick, TimeUnit.MILLISECONDS);
        reader.start();
    }

    static NbdConnection open(NbdUri uri, NbdClientOptions options) throws NbdException {
        String export = uri.export();
        SocketChannel channel;
        try {
            channel = uri.isUnix() ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        } catch (IOException e) {
            throw NbdException.connection(export, "cannot open a socket: " + e.getMessage(), e);
        }
        AtomicBoolean timedOut = new AtomicBoolean();
        // The handshake has its own deadline: a server that accepts and then says nothing must not hang us.
        ScheduledFuture<?> guard = WATCHDOG.schedule(() -> {
            timedOut.set(true);
            closeQuietly(channel);
        }, options.timeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            if (uri.isUnix()) {
                channel.connect(uri.address());
            } else {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.socket().connect(uri.address(), (int) Math.min(Integer.MAX_VALUE,
                        options.connectTimeout().toMillis()));
            }
        } catch (IOException e) {
            guard.cancel(false);
            closeQuietly(channel);
            throw NbdException.connection(export, "cannot connect to " + uri + ": " + e, e);
        }
        try {
            Handshake.Result result = Handshake.negotiate(channel, export, options.metaContexts());
            guard.cancel(false);
            if (timedOut.get()) {
                throw NbdTimeoutException.handshake(export, options.timeout());
            }
            return new NbdConnection(uri, channel, options.timeout(), result);
        } catch (NbdException e) {
            guard.cancel(false);
            closeQuietly(channel);
            throw timedOut.get() ? NbdTimeoutException.handshake(export, options.timeout()) : e;
        } catch (IOException e) {
            guard.cancel(false);
            closeQuietly(channel);
            if (timedOut.get()) {
                throw NbdTimeoutException.handshake(export, options.timeout());
            }
            throw NbdException.connection(export, "handshake with " + uri + " failed: " + e, e);
        }
    }

    ExportInfo info() {
        return info;
    }

    Map<Integer, String> contexts() {
        return contexts;
    }

    int inFlight() {
        return pending.size();
    }

    /**
     * Sends one request; the returned entry's future completes when the reply has arrived. Never
     * blocks for the reply, but blocks while the socket's send buffer is full (the server's back
     * pressure).
     */
    InFlight submit(NbdCommand command, int flags, long offset, long length, byte[] data, int dataOffset) {
        long cookie = cookies.getAndIncrement();
        InFlight p = new InFlight(command, offset, length, cookie, data, dataOffset);
        NbdException dead = failure;
        if (dead == null && closing) {
            dead = NbdException.connection(uri.export(), "the client is closed", null);
        }
        if (dead != null) {
            p.future.completeExceptionally(lost(p, dead));
            return p;
        }
        if (pending.isEmpty()) {
            lastProgress = System.nanoTime(); // an idle connection starts its silence clock now
        }
        pending.put(cookie, p);
        if (failure != null) { // raced with abort(), which may not have seen our entry
            if (pending.remove(cookie) != null) {
                p.future.completeExceptionally(lost(p, failure));
            }
            return p;
        }
        sendLock.lock();
        try {
            requestHeader.clear().putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) command.code())
                    .putLong(cookie).putLong(offset).putInt((int) length).flip();
            if (command == NbdCommand.WRITE) {
                Wire.writeFully(channel, requestHeader, ByteBuffer.wrap(data, dataOffset, (int) length));
            } else {
                Wire.writeFully(channel, requestHeader);
            }
        } catch (IOException e) {
            abort(NbdException.connection(uri.export(), "cannot send to " + uri + ": " + e, e));
        } finally {
            sendLock.unlock();
        }
        return p;
    }

    /**
     * Sends NBD_CMD_DISC, waits up to {@code grace} for the server to answer what is in flight and
     * close, then closes the socket and fails whatever is left.
     */
    void close(Duration grace) {
        if (closing) {
            return;
        }
        closing = true;
        if (failure == null) {
            sendLock.lock();
            try {
                requestHeader.clear().putInt(REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) NbdCommand.DISC.code()).putLong(0).putLong(0).putInt(0).flip();
                Wire.writeFully(channel, requestHeader);
                channel.shutdownOutput();
            } catch (IOException e) {
                // the server is gone already; nothing to say goodbye to
            } finally {
                sendLock.unlock();
            }
            try {
                reader.join(grace);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        abort(NbdException.connection(uri.export(), "the client was closed", null));
        watchdogTask.cancel(false);
    }

    private void readLoop() {
        ByteBuffer header = ByteBuffer.allocate(STRUCTURED_REPLY_HEADER);
        ByteBuffer scratch = ByteBuffer.allocate(64 * 1024);
        try {
            while (true) {
                header.clear().limit(4);
                if (!readMessageStart(header)) {
                    if (closing && pending.isEmpty()) {
                        return;
                    }
                    throw new EOFException("the server closed the connection");
                }
                lastProgress = System.nanoTime();
                int magic = header.getInt(0);
                if (magic == SIMPLE_REPLY_MAGIC) {
                    header.limit(SIMPLE_REPLY_HEADER);
                    Wire.readFully(channel, header);
                    onSimpleReply(header.getInt(4), header.getLong(8));
                } else if (magic == STRUCTURED_REPLY_MAGIC && structured) {
                    header.limit(STRUCTURED_REPLY_HEADER);
                    Wire.readFully(channel, header);
                    int flags = Short.toUnsignedInt(header.getShort(4));
                    int type = Short.toUnsignedInt(header.getShort(6));
                    scratch = onChunk(flags, type, header.getLong(8), header.getInt(16), scratch);
                } else {
                    throw protocol("bad reply magic 0x" + Integer.toHexString(magic));
                }
            }
        } catch (NbdException e) {
            abort(e);
        } catch (IOException | RuntimeException e) {
            abort(NbdException.connection(uri.export(), (closing ? "closed: " : "connection to " + uri + " lost: ") + e, e));
        }
    }

    /** Reads the first bytes of a reply; false on a clean end of stream between replies. */
    private boolean readMessageStart(ByteBuffer header) throws IOException {
        while (header.hasRemaining()) {
            if (channel.read(header) < 0) {
                if (header.position() == 0) {
                    return false;
                }
                throw new EOFException("the server closed the connection in the middle of a reply");
            }
        }
        return true;
    }

    private void onSimpleReply(int error, long cookie) throws IOException {
        InFlight p = pending.remove(cookie);
        if (p == null) {
            throw protocol("simple reply for unknown cookie " + cookie);
        }
        if (error != 0) {
            p.future.completeExceptionally(NbdException.reply(uri.export(), p.command, p.offset, p.length,
                    NbdErrno.of(error), unknownCode(error)));
            return;
        }
        if (p.command == NbdCommand.READ) {
            if (structured) {
                throw protocol("simple reply with data to READ offset=" + p.offset + " although structured replies are on");
            }
            Wire.readFully(channel, ByteBuffer.wrap(p.buffer, p.bufferOffset, (int) p.length));
            p.covered = p.length;
        } else if (p.command == NbdCommand.BLOCK_STATUS) {
            throw protocol("simple reply to BLOCK_STATUS offset=" + p.offset);
        }
        p.finish(uri.export(), contexts.size());
    }

    private ByteBuffer onChunk(int flags, int type, long cookie, int rawLength, ByteBuffer scratch) throws IOException {
        InFlight p = pending.get(cookie);
        if (p == null) {
            throw protocol("reply chunk type " + type + " for unknown cookie " + cookie);
        }
        long length = Integer.toUnsignedLong(rawLength);
        switch (type) {
            case CHUNK_NONE -> {
                if (length != 0 || (flags & REPLY_FLAG_DONE) == 0) {
                    throw protocol("NONE chunk with length " + length + " or without DONE");
                }
            }
            case CHUNK_OFFSET_DATA -> {
                expect(p, NbdCommand.READ, type, length >= 9);
                ByteBuffer b = read(scratch, 8);
                long offset = b.getLong();
                long n = length - 8;
                checkInside(p, offset, n);
                Wire.readFully(channel, ByteBuffer.wrap(p.buffer, p.bufferOffset + (int) (offset - p.offset), (int) n));
                p.covered += n;
            }
            case CHUNK_OFFSET_HOLE -> {
                expect(p, NbdCommand.READ, type, length == 12);
                ByteBuffer b = read(scratch, 12);
                long offset = b.getLong();
                long n = Integer.toUnsignedLong(b.getInt());
                checkInside(p, offset, n);
                int from = p.bufferOffset + (int) (offset - p.offset);
                Arrays.fill(p.buffer, from, from + (int) n, (byte) 0);
                p.covered += n;
            }
            case CHUNK_BLOCK_STATUS -> {
                expect(p, NbdCommand.BLOCK_STATUS, type, length >= 12 && (length - 4) % 8 == 0 && length <= MAX_CHUNK_PAYLOAD);
                if (scratch.capacity() < length) {
                    scratch = ByteBuffer.allocate((int) length);
                }
                ByteBuffer b = read(scratch, (int) length);
                int id = b.getInt();
                String context = contexts.get(id);
                if (context == null) {
                    throw protocol("BLOCK_STATUS chunk for unknown context id " + id);
                }
                int count = (int) ((length - 4) / 8);
                long[] lengths = new long[count];
                int[] states = new int[count];
                for (int i = 0; i < count; i++) {
                    lengths[i] = Integer.toUnsignedLong(b.getInt());
                    states[i] = b.getInt();
                    if (lengths[i] == 0) {
                        throw protocol("zero-length extent in BLOCK_STATUS for " + context);
                    }
                }
                if (!p.addExtents(context, lengths, states, count)) {
                    throw protocol("two BLOCK_STATUS chunks for context " + context + " in one reply");
                }
            }
            default -> {
                if (type != CHUNK_ERROR && type != CHUNK_ERROR_OFFSET && (type & CHUNK_ERROR_BIT) == 0) {
                    throw protocol("unknown reply chunk type " + type);
                }
                if (length < 6 || length > MAX_CHUNK_PAYLOAD) {
                    throw protocol("error chunk of " + length + " bytes");
                }
                p.recordError(errorChunk(p, type, read(scratch, (int) length)));
            }
        }
        if ((flags & REPLY_FLAG_DONE) != 0) {
            pending.remove(cookie);
            p.finish(uri.export(), contexts.size());
        }
        return scratch;
    }

    private NbdException errorChunk(InFlight p, int type, ByteBuffer b) throws NbdException {
        int error = b.getInt();
        int messageLength = Short.toUnsignedInt(b.getShort());
        if (error == 0 || messageLength > b.remaining()) {
            throw protocol("malformed error chunk (error " + error + ", message length " + messageLength + ")");
        }
        byte[] text = new byte[messageLength];
        b.get(text);
        StringBuilder detail = new StringBuilder(new String(text, StandardCharsets.UTF_8).strip());
        if (type == CHUNK_ERROR_OFFSET && b.remaining() >= 8) {
            detail.append(detail.isEmpty() ? "" : "; ").append("at offset ").append(b.getLong());
        } else if (type != CHUNK_ERROR && type != CHUNK_ERROR_OFFSET) {
            detail.append(detail.isEmpty() ? "" : "; ").append("unknown error chunk type ").append(type);
        }
        String unknown = unknownCode(error);
        if (unknown != null) {
            detail.append(detail.isEmpty() ? "" : "; ").append(unknown);
        }
        return NbdException.reply(uri.export(), p.command, p.offset, p.length, NbdErrno.of(error), detail.toString());
    }

    private static String unknownCode(int error) {
        return NbdErrno.of(error).code() == error ? null : "the server sent unknown error " + error;
    }

    private ByteBuffer read(ByteBuffer scratch, int n) throws IOException {
        scratch.clear().limit(n);
        Wire.readFully(channel, scratch);
        return scratch.flip();
    }

    private void expect(InFlight p, NbdCommand command, int type, boolean lengthOk) throws NbdException {
        if (p.command != command) {
            throw protocol("chunk type " + type + " in the reply to " + p.command + " offset=" + p.offset);
        }
        if (!lengthOk) {
            throw protocol("chunk type " + type + " with a bad length in the reply to " + p.command + " offset=" + p.offset);
        }
    }

    private void checkInside(InFlight p, long offset, long n) throws NbdException {
        if (offset < p.offset || n > p.end() - offset) {
            throw protocol("READ offset=" + p.offset + " length=" + p.length + " got a chunk for offset="
                    + offset + " length=" + n + ", outside the request");
        }
    }

    private NbdException protocol(String what) {
        return NbdException.connection(uri.export(), "NBD protocol error from " + uri + ": " + what, null);
    }

    private void checkTimeout() {
        if (pending.isEmpty() || failure != null) {
            return;
        }
        long silent = System.nanoTime() - lastProgress;
        if (silent < timeout.toNanos()) {
            return;
        }
        List<InFlight> expired = new ArrayList<>(pending.values());
        expired.sort(Comparator.comparingLong(p -> p.cookie));
        NbdTimeoutException first = null;
        for (InFlight p : expired) {
            if (pending.remove(p.cookie) != null) {
                NbdTimeoutException e = NbdTimeoutException.request(uri.export(), p.command, p.offset, p.length, timeout);
                first = first == null ? e : first;
                p.future.completeExceptionally(e);
            }
        }
        if (first != null) {
            abort(first);
        }
    }

    /** Marks the connection dead (keeping the first cause), closes the socket, fails all pending requests. */
    private void abort(NbdException cause) {
        synchronized (this) {
            if (failure == null) {
                failure = cause;
            }
        }
        closeQuietly(channel);
        watchdogTask.cancel(false);
        for (InFlight p : new ArrayList<>(pending.values())) {
            if (pending.remove(p.cookie) != null) {
                p.future.completeExceptionally(lost(p, failure));
            }
        }
    }

    private NbdException lost(InFlight p, NbdException cause) {
        return NbdException.request(uri.export(), p.command, p.offset, p.length, cause.getMessage(),
                cause.errno().orElse(null), cause);
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // closing is best effort; the socket is unusable either way
        }
    }

    private static ScheduledExecutorService watchdog() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("nbd-watchdog").factory());
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }
}
