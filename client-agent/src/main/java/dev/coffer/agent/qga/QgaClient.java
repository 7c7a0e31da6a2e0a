package dev.coffer.agent.qga;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client of qemu-guest-agent on the host side of its channel (the unix socket of the VM's
 * {@code org.qemu.guest_agent.0} virtio-serial port), for {@code --fsfreeze}: the guest flushes and
 * freezes its filesystems around the instant the point-in-time view is taken, so the restore point
 * holds clean filesystems rather than crash-consistent ones.
 *
 * <p>The protocol is QMP without greeting or capabilities, over a byte stream that may hold a
 * half-read reply from an earlier client: it is resynchronised with {@code guest-sync-delimited},
 * whose reply the agent precedes with a 0xFF byte. Every reply is awaited with a timeout, since a
 * guest without a running agent simply never answers.
 */
public final class QgaClient implements AutoCloseable {

    /** How long the guest may take to answer a command; freezing many filesystems can take a while. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REPLY = 1 << 20;
    private static final Duration CONNECT_RETRY = Duration.ofSeconds(3);

    private final Path socket;
    private final SocketChannel channel;
    private final InputStream in;
    private final Duration timeout;
    private final ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "coffer-qga-reader");
        t.setDaemon(true);
        return t;
    });

    private QgaClient(Path socket, SocketChannel channel, Duration timeout) {
        this.socket = socket;
        this.channel = channel;
        this.in = Channels.newInputStream(channel);
        this.timeout = timeout;
    }

    /** Connects and resynchronises the stream. */
    public static QgaClient connect(Path socket, Duration timeout) throws QgaException {
        SocketChannel ch = null;
        long deadline = System.nanoTime() + CONNECT_RETRY.toNanos();
        while (ch == null) {
            try {
                ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            } catch (java.net.ConnectException e) {
                // the agent serves one client at a time and listens again only after the last one left
                if (System.nanoTime() > deadline) {
                    throw new QgaException("cannot connect to the guest agent socket " + socket + ": " + e.getMessage()
                            + " for " + CONNECT_RETRY.toSeconds() + " s (another client holds it?)", e);
                }
                sleep(50);
            } catch (IOException e) {
                throw new QgaException("cannot connect to the guest agent socket " + socket + ": " + e.getMessage()
                        + " (--qga-socket names the host side of the VM's org.qemu.guest_agent.0 channel)", e);
            }
        }
        QgaClient c = new QgaClient(socket, ch, timeout);
        try {
            c.sync();
            return c;
        } catch (QgaException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static void sleep(long ms) throws QgaException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QgaException("interrupted connecting to the guest agent", e);
        }
    }

    private void sync() throws QgaException {
        long id = ThreadLocalRandom.current().nextLong(1, 1L << 31);
        ObjectNode a = JSON.createObjectNode();
        a.put("id", id);
        send("guest-sync-delimited", a);
        JsonNode reply = await("guest-sync-delimited", () -> {
            int b;
            while ((b = in.read()) != 0xFF) { // skip whatever an earlier client left unread
                if (b < 0) {
                    throw new IOException("the guest agent closed the connection");
                }
            }
            return readReply();
        });
        if (reply.path("return").asLong() != id) {
            throw new QgaException("the guest agent on " + socket + " answered the sync with " + reply + ", expected " + id, null);
        }
    }

    /** {@code guest-ping}: answers when the agent runs in the guest. */
    public void ping() throws QgaException {
        execute("guest-ping", null);
    }

    /** {@code guest-info}: the agent's version and its commands (with whether each is enabled). */
    public JsonNode info() throws QgaException {
        return execute("guest-info", null);
    }

    /** {@code guest-fsfreeze-status}: "thawed" or "frozen". */
    public String fsfreezeStatus() throws QgaException {
        return execute("guest-fsfreeze-status", null).asText();
    }

    /** {@code guest-fsfreeze-freeze}: returns how many filesystems were frozen. */
    public int fsfreezeFreeze() throws QgaException {
        return execute("guest-fsfreeze-freeze", null).asInt();
    }

    /** {@code guest-fsfreeze-thaw}: returns how many filesystems were thawed. */
    public int fsfreezeThaw() throws QgaException {
        return execute("guest-fsfreeze-thaw", null).asInt();
    }

    /** Runs a command; its {@code return} value, or QgaException with the agent's error. */
    public JsonNode execute(String command, ObjectNode arguments) throws QgaException {
        send(command, arguments);
        JsonNode reply = await(command, this::readReply);
        JsonNode err = reply.get("error");
        if (err != null) {
            throw new QgaException("the guest agent refused " + command + ": " + err.path("desc").asText(err.toString()), null);
        }
        return reply.path("return");
    }

    private void send(String command, ObjectNode arguments) throws QgaException {
        ObjectNode msg = JSON.createObjectNode();
        msg.put("execute", command);
        if (arguments != null) {
            msg.set("arguments", arguments);
        }
        try {
            ByteBuffer b = ByteBuffer.wrap((JSON.writeValueAsString(msg) + "\n").getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            throw new QgaException("cannot send " + command + " to the guest agent on " + socket + ": " + e.getMessage(), e);
        }
    }

    private interface Read {
        JsonNode read() throws IOException;
    }

    private JsonNode await(String command, Read read) throws QgaException {
        Future<JsonNode> f = reader.submit(read::read);
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            close();
            throw new QgaException("the guest agent on " + socket + " did not answer " + command + " within " + timeout.toSeconds()
                    + " s (is qemu-guest-agent running in the guest?)", null);
        } catch (ExecutionException e) {
            throw new QgaException(command + " to the guest agent on " + socket + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QgaException("interrupted waiting for the guest agent", e);
        }
    }

    /** One JSON reply line (events, which the guest agent does not send, would be skipped). */
    private JsonNode readReply() throws IOException {
        while (true) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) {
                    throw new IOException("the guest agent closed the connection");
                }
                if (line.size() >= MAX_REPLY) {
                    throw new IOException("a reply longer than " + MAX_REPLY + " bytes");
                }
                if (b != 0xFF) {
                    line.write(b);
                }
            }
            String text = line.toString(StandardCharsets.UTF_8).trim();
            if (text.isEmpty()) {
                continue;
            }
            JsonNode n = JSON.readTree(text);
            if (!n.has("event")) {
                return n;
            }
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
        reader.shutdownNow();
    }
}
