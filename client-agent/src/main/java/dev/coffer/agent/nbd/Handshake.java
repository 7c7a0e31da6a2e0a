package dev.coffer.agent.nbd;

import static dev.coffer.agent.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fixed-newstyle option phase, run once per connection before transmission: structured
 * replies, the metadata contexts, then NBD_OPT_GO asking for block sizes. Every refusal becomes an
 * {@link NbdException} naming the export, the option and the server's own message, because
 * "no such export" or "bitmap not found" is what the operator must see.
 */
final class Handshake {

    /** Largest option reply we accept: names and messages are ≤ 4 KiB, contexts come one per reply. */
    private static final int MAX_OPTION_REPLY = 64 * 1024;
    /** We never issue a READ or WRITE larger than this, whatever the server allows. */
    static final int PAYLOAD_CAP = 1 << 30;

    /** What the handshake settled. */
    record Result(ExportInfo info, boolean structuredReplies, Map<Integer, String> contexts) {}

    private final SocketChannel channel;
    private final String export;
    private final byte[] exportBytes;

    private Handshake(SocketChannel channel, String export) {
        this.channel = channel;
        this.export = export;
        this.exportBytes = export.getBytes(StandardCharsets.UTF_8);
    }

    static Result negotiate(SocketChannel channel, String export, List<String> contexts) throws IOException {
        return new Handshake(channel, export).run(contexts);
    }

    private Result run(List<String> contexts) throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        Wire.readFully(channel, greeting);
        greeting.flip();
        long magic = greeting.getLong();
        long second = greeting.getLong();
        if (magic != NBDMAGIC) {
            throw fail("not an NBD server (greeting starts 0x" + Long.toHexString(magic) + ")");
        }
        if (second == OLDSTYLE_MAGIC) {
            throw fail("the server speaks the oldstyle handshake, which has no export names; use a newstyle server");
        }
        if (second != IHAVEOPT) {
            throw fail("bad handshake magic 0x" + Long.toHexString(second));
        }
        int serverFlags = Short.toUnsignedInt(greeting.getShort());
        if ((serverFlags & FLAG_FIXED_NEWSTYLE) == 0) {
            throw fail("the server does not offer fixed newstyle negotiation");
        }
        // Only echo bits the server offered: an unknown bit makes it drop the connection.
        int clientFlags = serverFlags & (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        Wire.writeFully(channel, ByteBuffer.allocate(4).putInt(clientFlags).flip());
        boolean noZeroes = (clientFlags & FLAG_NO_ZEROES) != 0;

        boolean structured = structuredReplies();
        Map<Integer, String> selected = Map.of();
        if (!contexts.isEmpty()) {
            if (!structured) {
                throw fail("the server has no structured replies, so it cannot report block status for "
                        + contexts);
            }
            selected = setMetaContexts(contexts);
        }
        return new Result(go(noZeroes), structured, selected);
    }

    private boolean structuredReplies() throws IOException {
        sendOption(OPT_STRUCTURED_REPLY, ByteBuffer.allocate(0));
        Reply r = readReply(OPT_STRUCTURED_REPLY);
        if (r.type == REP_ACK) {
            return true;
        }
        if (isUnsupported(r.type)) {
            return false;
        }
        throw refused(OPT_STRUCTURED_REPLY, r);
    }

    private Map<Integer, String> setMetaContexts(List<String> contexts) throws IOException {
        int len = 4 + exportBytes.length + 4;
        List<byte[]> queries = new ArrayList<>();
        for (String c : contexts) {
            byte[] b = c.getBytes(StandardCharsets.UTF_8);
            queries.add(b);
            len += 4 + b.length;
        }
        ByteBuffer data = ByteBuffer.allocate(len).putInt(exportBytes.length).put(exportBytes).putInt(queries.size());
        for (byte[] q : queries) {
            data.putInt(q.length).put(q);
        }
        sendOption(OPT_SET_META_CONTEXT, data.flip());
        Map<Integer, String> selected = new HashMap<>();
        while (true) {
            Reply r = readReply(OPT_SET_META_CONTEXT);
            if (r.type == REP_ACK) {
                break;
            }
            if (r.type != REP_META_CONTEXT) {
                throw refused(OPT_SET_META_CONTEXT, r);
            }
            if (r.data.remaining() < 4) {
                throw fail("short NBD_REP_META_CONTEXT reply");
            }
            int id = r.data.getInt();
            String name = StandardCharsets.UTF_8.decode(r.data).toString();
            if (!contexts.contains(name)) {
                throw fail("the server selected metadata context '" + name + "', which was not asked for");
            }
            selected.put(id, name);
        }
        List<String> missing = contexts.stream().filter(c -> !selected.containsValue(c)).toList();
        if (!missing.isEmpty()) {
            throw fail("the server does not offer metadata context " + String.join(", ", missing)
                    + (missing.stream().anyMatch(m -> m.startsWith(BlockStatus.DIRTY_BITMAP_PREFIX))
                            ? " (is the bitmap exported with this export?)" : "")
                    + "; it selected " + selected.values());
        }
        return Map.copyOf(selected);
    }

    private ExportInfo go(boolean noZeroes) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(4 + exportBytes.length + 2 + 2)
                .putInt(exportBytes.length).put(exportBytes).putShort((short) 1).putShort((short) INFO_BLOCK_SIZE);
        sendOption(OPT_GO, data.flip());
        long size = -1;
        int flags = 0;
        int min = DEFAULT_MINIMUM_BLOCK;
        int preferred = DEFAULT_PREFERRED_BLOCK;
        long max = DEFAULT_MAXIMUM_PAYLOAD;
        while (true) {
            Reply r = readReply(OPT_GO);
            if (r.type == REP_ACK) {
                break;
            }
            if (isUnsupported(r.type)) {
                return exportName(noZeroes);
            }
            if (r.type != REP_INFO) {
                throw refused(OPT_GO, r);
            }
            if (r.data.remaining() < 2) {
                throw fail("short NBD_REP_INFO reply");
            }
            int info = Short.toUnsignedInt(r.data.getShort());
            if (info == INFO_EXPORT && r.data.remaining() == 10) {
                size = r.data.getLong();
                flags = Short.toUnsignedInt(r.data.getShort());
            } else if (info == INFO_BLOCK_SIZE && r.data.remaining() == 12) {
                min = r.data.getInt();
                preferred = r.data.getInt();
                max = Integer.toUnsignedLong(r.data.getInt());
            } else if (info == INFO_EXPORT || info == INFO_BLOCK_SIZE) {
                throw fail("NBD_REP_INFO type " + info + " has a bad length " + (r.data.remaining() + 2));
            }
            // NAME, DESCRIPTION and unknown types carry nothing we need.
        }
        if (size < 0) {
            throw fail("the server finished NBD_OPT_GO without sending the export size");
        }
        return info(size, flags, min, preferred, max);
    }

    /** Fallback for servers without NBD_OPT_GO (pre-2016): no error path, no block sizes. */
    private ExportInfo exportName(boolean noZeroes) throws IOException {
        sendOption(OPT_EXPORT_NAME, ByteBuffer.wrap(exportBytes));
        ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
        Wire.readFully(channel, reply);
        reply.flip();
        return info(reply.getLong(), Short.toUnsignedInt(reply.getShort()), DEFAULT_MINIMUM_BLOCK,
                DEFAULT_PREFERRED_BLOCK, DEFAULT_MAXIMUM_PAYLOAD);
    }

    private ExportInfo info(long size, int flags, int min, int preferred, long max) throws NbdException {
        long cap = Math.min(max, PAYLOAD_CAP);
        cap -= cap % Math.max(min, 1);
        try {
            return new ExportInfo(export, size, flags, min, preferred, (int) cap);
        } catch (IllegalArgumentException e) {
            throw fail(e.getMessage());
        }
    }

    private void sendOption(int option, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(option).putInt(data.remaining()).flip();
        Wire.writeFully(channel, header, data);
    }

    private record Reply(int type, ByteBuffer data) {}

    private Reply readReply(int option) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(20);
        Wire.readFully(channel, header);
        header.flip();
        long magic = header.getLong();
        int echoed = header.getInt();
        int type = header.getInt();
        int length = header.getInt();
        if (magic != OPTION_REPLY_MAGIC) {
            throw fail("bad option reply magic 0x" + Long.toHexString(magic) + " after " + optionName(option));
        }
        if (echoed != option) {
            throw fail("the server answered " + optionName(echoed) + " to " + optionName(option));
        }
        if (length < 0 || length > MAX_OPTION_REPLY) {
            throw fail("option reply of " + Integer.toUnsignedString(length) + " bytes to " + optionName(option));
        }
        ByteBuffer data = ByteBuffer.allocate(length);
        Wire.readFully(channel, data);
        return new Reply(type, data.flip());
    }

    private NbdException refused(int option, Reply r) {
        if ((r.type & REP_FLAG_ERROR) == 0) {
            return fail("unexpected reply type " + r.type + " to " + optionName(option));
        }
        String message = StandardCharsets.UTF_8.decode(r.data).toString().strip();
        return fail(optionName(option) + " refused with " + optionErrorName(r.type)
                + (message.isEmpty() ? "" : ": " + message));
    }

    private NbdException fail(String what) {
        return NbdException.connection(export, what, null);
    }
}
