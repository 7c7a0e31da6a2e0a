package dev.coffer.agent.serve;

import static dev.coffer.agent.nbd.NbdProtocol.*;

import dev.coffer.agent.nbd.BlockStatus;
import dev.coffer.agent.nbd.ExportInfo;
import dev.coffer.agent.nbd.NbdCommand;
import dev.coffer.agent.nbd.NbdErrno;
import dev.coffer.agent.nbd.Wire;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One client of {@link NbdServer}: the fixed newstyle handshake, then the transmission phase.
 *
 * <p>Options: STRUCTURED_REPLY, LIST (the disk's name and the default export), INFO and GO
 * (size, flags, block sizes), LIST/SET_META_CONTEXT for {@code base:allocation}, ABORT and the
 * old EXPORT_NAME; anything else is ERR_UNSUP, an unknown export ERR_UNKNOWN.
 *
 * <p>Transmission: READ, BLOCK_STATUS and FLUSH; writes, trims and zero writes get EPERM. Each
 * READ and BLOCK_STATUS runs on its own virtual thread (at most {@link #MAX_IN_FLIGHT} at a time),
 * so a slow chunk fetch does not hold up other requests; replies go out whole under one lock,
 * structured READ replies chunk by chunk (OFFSET_DATA, or OFFSET_HOLE for zero chunks).
 */
final class NbdServerConnection implements Runnable {

    static final int MAX_IN_FLIGHT = 16;
    static final int MAX_PAYLOAD = DEFAULT_MAXIMUM_PAYLOAD;
    /** Option data we accept; real options are a few hundred bytes. */
    static final int MAX_OPTION = 64 * 1024;
    /** Extents in one BLOCK_STATUS reply at most (QEMU sends 128 Ki). */
    static final int MAX_EXTENTS = 64 * 1024;
    static final int CONTEXT_ID = 1;

    static final int TRANSMISSION_FLAGS = ExportInfo.HAS_FLAGS | ExportInfo.READ_ONLY | ExportInfo.SEND_FLUSH
            | ExportInfo.SEND_DF | ExportInfo.CAN_MULTI_CONN;

    private final SocketChannel channel;
    private final String exportName;
    private final ChunkSource disk;
    private final LongAdder dataBytesServed;
    private final Consumer<NbdServerConnection> onClose;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private boolean structured;
    private boolean allocation;

    NbdServerConnection(SocketChannel channel, String exportName, ChunkSource disk, LongAdder dataBytesServed,
            Consumer<NbdServerConnection> onClose) {
        this.channel = channel;
        this.exportName = exportName;
        this.disk = disk;
        this.dataBytesServed = dataBytesServed;
        this.onClose = onClose;
    }

    @Override
    public void run() {
        try {
            if (handshake()) {
                transmission();
            }
        } catch (EOFException | java.nio.channels.ClosedChannelException e) {
            // the client went away
        } catch (IOException e) {
            if (channel.isOpen()) {
                System.err.println("coffer serve: connection dropped: " + e.getMessage());
            }
        } catch (RuntimeException e) {
            System.err.println("coffer serve: connection failed: " + e);
        } finally {
            close();
            onClose.accept(this);
        }
    }

    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    // ------------------------------------------------------------------ handshake

    private boolean knownExport(String name) {
        return name.isEmpty() || name.equals(exportName);
    }

    /** The option haggling; true when transmission starts, false when the client left. */
    private boolean handshake() throws IOException {
        ByteBuffer hello = ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(IHAVEOPT)
                .putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip();
        Wire.writeFully(channel, hello);
        ByteBuffer cf = read(4);
        int clientFlags = cf.getInt();
        if ((clientFlags & ~(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)) != 0) {
            return false; // a bit we did not offer: the spec says drop the client
        }
        boolean noZeroes = (clientFlags & FLAG_NO_ZEROES) != 0;
        while (true) {
            ByteBuffer h = read(16);
            if (h.getLong() != IHAVEOPT) {
                return false;
            }
            int option = h.getInt();
            int length = h.getInt();
            if (length < 0 || length > MAX_OPTION) {
                // too big to read: answer and drop, as the data cannot be skipped cheaply
                optionReply(option, REP_ERR_TOO_BIG, msg("option data too large"));
                return false;
            }
            ByteBuffer data = read(length);
            switch (option) {
                case OPT_EXPORT_NAME -> {
                    String name = StandardCharsets.UTF_8.decode(data).toString();
                    if (!knownExport(name)) {
                        return false; // EXPORT_NAME has no error reply
                    }
                    ByteBuffer r = ByteBuffer.allocate(noZeroes ? 10 : 134).putLong(disk.size())
                            .putShort((short) TRANSMISSION_FLAGS);
                    Wire.writeFully(channel, r.position(r.capacity()).flip());
                    return true;
                }
                case OPT_ABORT -> {
                    optionReply(option, REP_ACK, ByteBuffer.allocate(0));
                    return false;
                }
                case OPT_LIST -> {
                    if (length != 0) {
                        optionReply(option, REP_ERR_INVALID, msg("LIST takes no data"));
                        break;
                    }
                    for (String name : List.of(exportName, "")) {
                        byte[] n = name.getBytes(StandardCharsets.UTF_8);
                        optionReply(option, REP_SERVER, ByteBuffer.allocate(4 + n.length).putInt(n.length).put(n).flip());
                    }
                    optionReply(option, REP_ACK, ByteBuffer.allocate(0));
                }
                case OPT_STRUCTURED_REPLY -> {
                    if (length != 0) {
                        optionReply(option, REP_ERR_INVALID, msg("STRUCTURED_REPLY takes no data"));
                        break;
                    }
                    structured = true;
                    optionReply(option, REP_ACK, ByteBuffer.allocate(0));
                }
                case OPT_INFO, OPT_GO -> {
                    if (info(option, data)) {
                        return true;
                    }
                }
                case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> metaContext(option, data);
                default -> optionReply(option, REP_ERR_UNSUP, msg(optionName(option) + " is not supported"));
            }
        }
    }

    /** INFO or GO; true when GO succeeded and transmission starts. */
    private boolean info(int option, ByteBuffer data) throws IOException {
        String name;
        List<Integer> requests = new ArrayList<>();
        try {
            name = string(data, data.getInt());
            int n = Short.toUnsignedInt(data.getShort());
            for (int i = 0; i < n; i++) {
                requests.add(Short.toUnsignedInt(data.getShort()));
            }
            if (data.hasRemaining()) {
                throw new java.nio.BufferUnderflowException();
            }
        } catch (RuntimeException e) {
            optionReply(option, REP_ERR_INVALID, msg("malformed " + optionName(option) + " request"));
            return false;
        }
        if (!knownExport(name)) {
            optionReply(option, REP_ERR_UNKNOWN, msg("no export '" + name + "'; this server exports '" + exportName + "'"));
            return false;
        }
        optionReply(option, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(disk.size())
                .putShort((short) TRANSMISSION_FLAGS).flip());
        if (requests.contains(INFO_NAME)) {
            byte[] n = exportName.getBytes(StandardCharsets.UTF_8);
            optionReply(option, REP_INFO, ByteBuffer.allocate(2 + n.length).putShort((short) INFO_NAME).put(n).flip());
        }
        optionReply(option, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE).putInt(1)
                .putInt(preferredBlock(disk.chunkSize())).putInt(MAX_PAYLOAD).flip());
        optionReply(option, REP_ACK, ByteBuffer.allocate(0));
        return option == OPT_GO;
    }

    /** The chunk size when it is a power of two the spec allows as preferred size, else 4096. */
    static int preferredBlock(int chunkSize) {
        return Integer.bitCount(chunkSize) == 1 && chunkSize >= 512 && chunkSize <= MAX_PAYLOAD ? chunkSize : DEFAULT_PREFERRED_BLOCK;
    }

    private void metaContext(int option, ByteBuffer data) throws IOException {
        if (!structured) {
            optionReply(option, REP_ERR_INVALID, msg("meta contexts need structured replies"));
            return;
        }
        String name;
        List<String> queries = new ArrayList<>();
        try {
            name = string(data, data.getInt());
            int n = data.getInt();
            for (int i = 0; i < n; i++) {
                queries.add(string(data, data.getInt()));
            }
            if (data.hasRemaining()) {
                throw new java.nio.BufferUnderflowException();
            }
        } catch (RuntimeException e) {
            optionReply(option, REP_ERR_INVALID, msg("malformed " + optionName(option) + " request"));
            return;
        }
        if (!knownExport(name)) {
            optionReply(option, REP_ERR_UNKNOWN, msg("no export '" + name + "'"));
            return;
        }
        boolean set = option == OPT_SET_META_CONTEXT;
        boolean match = set ? queries.contains(BlockStatus.BASE_ALLOCATION)
                : queries.isEmpty() || queries.stream().anyMatch(q -> q.equals("base:") || q.equals(BlockStatus.BASE_ALLOCATION));
        if (set) {
            allocation = match; // SET replaces any earlier selection
        }
        if (match) {
            byte[] ctx = BlockStatus.BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            optionReply(option, REP_META_CONTEXT, ByteBuffer.allocate(4 + ctx.length).putInt(set ? CONTEXT_ID : 0).put(ctx).flip());
        }
        optionReply(option, REP_ACK, ByteBuffer.allocate(0));
    }

    private void optionReply(int option, int type, ByteBuffer data) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(20).putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(data.remaining()).flip();
        Wire.writeFully(channel, h, data);
    }

    private static ByteBuffer msg(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String string(ByteBuffer b, int length) {
        if (length < 0 || length > MAX_STRING || length > b.remaining()) {
            throw new java.nio.BufferUnderflowException();
        }
        byte[] s = new byte[length];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        Wire.readFully(channel, b);
        return b.flip();
    }

    // ------------------------------------------------------------------ transmission

    private void transmission() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(REQUEST_HEADER);
        ByteBuffer scratch = ByteBuffer.allocate(64 * 1024);
        try {
            while (true) {
                header.clear();
                Wire.readFully(channel, header);
                header.flip();
                if (header.getInt() != REQUEST_MAGIC) {
                    return; // out of sync: nothing sensible to answer
                }
                int flags = Short.toUnsignedInt(header.getShort());
                int type = Short.toUnsignedInt(header.getShort());
                long cookie = header.getLong();
                long offset = header.getLong();
                long length = Integer.toUnsignedLong(header.getInt());
                if (type == NbdCommand.WRITE.code()) {
                    if (length > MAX_PAYLOAD) {
                        return; // cannot skip that much safely: drop, as QEMU does
                    }
                    Wire.skip(channel, length, scratch);
                    error(cookie, NbdErrno.EPERM, "the export is read-only");
                } else if (type == NbdCommand.TRIM.code() || type == NbdCommand.WRITE_ZEROES.code()) {
                    error(cookie, NbdErrno.EPERM, "the export is read-only");
                } else if (type == NbdCommand.DISC.code()) {
                    return; // the finally below answers what is in flight, then the connection closes
                } else if (type == NbdCommand.FLUSH.code()) {
                    simple(cookie, 0); // nothing is ever written
                } else if (type == NbdCommand.READ.code() || type == NbdCommand.BLOCK_STATUS.code()) {
                    boolean read = type == NbdCommand.READ.code();
                    if (length == 0 || offset < 0 || offset + length > disk.size() || (read && length > MAX_PAYLOAD)) {
                        error(cookie, NbdErrno.EINVAL, "request " + offset + "+" + length + " outside the export of "
                                + disk.size() + " bytes or too long");
                        continue;
                    }
                    if (!read && (!structured || !allocation)) {
                        error(cookie, NbdErrno.EINVAL, "no meta context selected");
                        continue;
                    }
                    inFlight.acquireUninterruptibly();
                    Thread.ofVirtual().name("coffer-serve-req").start(() -> {
                        try {
                            if (read) {
                                read(cookie, flags, offset, (int) length);
                            } else {
                                blockStatus(cookie, flags, offset, length);
                            }
                        } catch (IOException e) {
                            close(); // the reply could not be written: the connection is gone
                        } finally {
                            inFlight.release();
                        }
                    });
                } else {
                    error(cookie, NbdErrno.EINVAL, "command " + type + " is not supported");
                }
            }
        } finally {
            inFlight.acquireUninterruptibly(MAX_IN_FLIGHT); // every request in flight has been answered
            inFlight.release(MAX_IN_FLIGHT);
        }
    }

    /** A piece of a READ reply: a hole, or a slice of a data chunk's plaintext. */
    private record Piece(long offset, int length, CompletableFuture<byte[]> chunk, int chunkOffset) {}

    private void read(long cookie, int flags, long offset, int length) throws IOException {
        int cs = disk.chunkSize();
        List<Piece> pieces = new ArrayList<>();
        try {
            long end = offset + length;
            for (long pos = offset; pos < end; ) {
                long chunk = pos / cs;
                int within = (int) (pos - chunk * cs);
                int n = (int) Math.min(end - pos, disk.chunkLength(chunk) - within);
                if (disk.isZero(chunk)) {
                    Piece last = pieces.isEmpty() ? null : pieces.getLast();
                    if (last != null && last.chunk() == null) {
                        pieces.set(pieces.size() - 1, new Piece(last.offset(), last.length() + n, null, 0));
                    } else {
                        pieces.add(new Piece(pos, n, null, 0));
                    }
                } else {
                    pieces.add(new Piece(pos, n, fetch(chunk), within));
                }
                pos += n;
            }
        } catch (IOException | RuntimeException e) {
            error(cookie, NbdErrno.EIO, "reading the index failed: " + e.getMessage());
            return;
        }
        if (!structured || (flags & CMD_FLAG_DF) != 0) {
            byte[] all = new byte[length];
            long data = 0;
            try {
                for (Piece p : pieces) {
                    if (p.chunk() != null) {
                        System.arraycopy(ChunkCache.await(p.chunk()), p.chunkOffset(), all, (int) (p.offset() - offset), p.length());
                        data += p.length();
                    }
                }
            } catch (IOException e) {
                report(e);
                error(cookie, NbdErrno.EIO, e.getMessage());
                return;
            }
            if (structured) {
                chunk(cookie, REPLY_FLAG_DONE, CHUNK_OFFSET_DATA, ByteBuffer.allocate(8).putLong(offset).flip(), ByteBuffer.wrap(all));
            } else {
                ByteBuffer h = ByteBuffer.allocate(SIMPLE_REPLY_HEADER).putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(cookie).flip();
                write(h, ByteBuffer.wrap(all));
            }
            dataBytesServed.add(data);
            return;
        }
        for (int i = 0; i < pieces.size(); i++) {
            Piece p = pieces.get(i);
            int done = i == pieces.size() - 1 ? REPLY_FLAG_DONE : 0;
            if (p.chunk() == null) {
                chunk(cookie, done, CHUNK_OFFSET_HOLE, ByteBuffer.allocate(12).putLong(p.offset()).putInt(p.length()).flip());
            } else {
                byte[] data;
                try {
                    data = ChunkCache.await(p.chunk());
                } catch (IOException e) {
                    report(e);
                    error(cookie, NbdErrno.EIO, e.getMessage());
                    return;
                }
                chunk(cookie, done, CHUNK_OFFSET_DATA, ByteBuffer.allocate(8).putLong(p.offset()).flip(),
                        ByteBuffer.wrap(data, p.chunkOffset(), p.length()));
                dataBytesServed.add(p.length());
            }
        }
    }

    private CompletableFuture<byte[]> fetch(long chunk) {
        if (disk instanceof ChunkCache cache) {
            return cache.fetch(chunk);
        }
        try {
            return CompletableFuture.completedFuture(disk.read(chunk));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static void report(IOException e) {
        System.err.println("coffer serve: read failed: " + e.getMessage());
    }

    /** base:allocation: zero chunks are HOLE|ZERO, the rest data; runs of one kind are merged. */
    private void blockStatus(long cookie, int flags, long offset, long length) throws IOException {
        int cs = disk.chunkSize();
        boolean one = (flags & CMD_FLAG_REQ_ONE) != 0;
        List<long[]> extents = new ArrayList<>();
        try {
            long end = offset + length;
            for (long pos = offset; pos < end; ) {
                long chunk = pos / cs;
                long n = Math.min(end - pos, chunk * cs + disk.chunkLength(chunk) - pos);
                int state = disk.isZero(chunk) ? BlockStatus.HOLE | BlockStatus.ZERO : 0;
                long[] last = extents.isEmpty() ? null : extents.getLast();
                if (last != null && last[1] == state) {
                    last[0] += n;
                } else {
                    if (extents.size() == (one ? 1 : MAX_EXTENTS)) {
                        break;
                    }
                    extents.add(new long[] {n, state});
                }
                pos += n;
            }
        } catch (IOException | RuntimeException e) {
            error(cookie, NbdErrno.EIO, "reading the index failed: " + e.getMessage());
            return;
        }
        ByteBuffer payload = ByteBuffer.allocate(4 + 8 * extents.size()).putInt(CONTEXT_ID);
        for (long[] e : extents) {
            payload.putInt((int) e[0]).putInt((int) e[1]);
        }
        chunk(cookie, REPLY_FLAG_DONE, CHUNK_BLOCK_STATUS, payload.flip());
    }

    // ------------------------------------------------------------------ replies

    private void chunk(long cookie, int flags, int type, ByteBuffer... payload) throws IOException {
        int len = 0;
        for (ByteBuffer b : payload) {
            len += b.remaining();
        }
        ByteBuffer h = ByteBuffer.allocate(STRUCTURED_REPLY_HEADER).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) flags)
                .putShort((short) type).putLong(cookie).putInt(len).flip();
        ByteBuffer[] all = new ByteBuffer[payload.length + 1];
        all[0] = h;
        System.arraycopy(payload, 0, all, 1, payload.length);
        write(all);
    }

    private void simple(long cookie, int error) throws IOException {
        write(ByteBuffer.allocate(SIMPLE_REPLY_HEADER).putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie).flip());
    }

    private void error(long cookie, NbdErrno errno, String message) throws IOException {
        if (!structured) {
            simple(cookie, errno.code());
            return;
        }
        byte[] m = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        if (m.length > MAX_STRING) {
            m = java.util.Arrays.copyOf(m, MAX_STRING);
        }
        chunk(cookie, REPLY_FLAG_DONE, CHUNK_ERROR, ByteBuffer.allocate(6 + m.length).putInt(errno.code()).putShort((short) m.length).put(m).flip());
    }

    private void write(ByteBuffer... buffers) throws IOException {
        writeLock.lock();
        try {
            Wire.writeFully(channel, buffers);
        } finally {
            writeLock.unlock();
        }
    }
}
