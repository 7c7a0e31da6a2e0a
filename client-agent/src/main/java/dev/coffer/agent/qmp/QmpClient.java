package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A synchronous QMP client over a unix socket (QEMU or qemu-storage-daemon).
 *
 * <p>{@link #connect} reads the greeting and negotiates capabilities. A QMP socket serves one
 * client at a time: a second client connects but gets no greeting until the first disconnects, so a
 * missing greeting fails with {@link QmpBusyException} ("QMP socket busy") after the greeting timeout
 * (5 s by default). Connect for the work and close soon after.
 *
 * <p>{@link #execute} sends one command with its own id and waits for the matching reply; error
 * replies become {@link QmpException} naming the command, QEMU's error class and description.
 * Commands may be called from several threads, but QEMU runs them one after another.
 *
 * <p>One daemon reader thread reads everything QEMU sends. Asynchronous events go to every listener
 * ({@link #addEventListener}, called on the reader thread: keep them short and non-blocking) and to
 * a bounded queue ({@link #pollEvent}, {@link #awaitEvent}; the oldest event is dropped when 4096
 * are waiting).
 */
public final class QmpClient implements AutoCloseable {

    /** How long {@link #connect(Path)} waits for the greeting before "QMP socket busy". */
    public static final Duration DEFAULT_GREETING_TIMEOUT = Duration.ofSeconds(5);
    /** How long {@link #execute} waits for a reply by default. */
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(60);

    private static final int EVENT_QUEUE_CAPACITY = 4096;
    private static final int MAX_LINE = 64 << 20;

    private final ObjectMapper json = new ObjectMapper();
    private final Path socket;
    private final SocketChannel channel;
    private final Duration commandTimeout;
    private final Object writeLock = new Object();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final List<Consumer<QmpEvent>> listeners = new CopyOnWriteArrayList<>();
    private final BlockingDeque<QmpEvent> events = new LinkedBlockingDeque<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread reader;
    private volatile boolean closed;
    private volatile QmpException failure;

    private record Pending(String command, CompletableFuture<JsonNode> reply) {
    }

    private QmpClient(Path socket, SocketChannel channel, Duration commandTimeout) {
        this.socket = socket;
        this.channel = channel;
        this.commandTimeout = commandTimeout;
        this.reader = Thread.ofPlatform().daemon().name("qmp-reader " + socket.getFileName()).unstarted(this::readLoop);
    }

    /** Connects with the default timeouts (5 s greeting, 60 s per command). */
    public static QmpClient connect(Path socket) throws QmpException {
        return connect(socket, DEFAULT_GREETING_TIMEOUT, DEFAULT_COMMAND_TIMEOUT);
    }

    /**
     * Connects to the QMP unix socket, reads the greeting and sends {@code qmp_capabilities}.
     *
     * @throws QmpBusyException when no greeting arrives within {@code greetingTimeout}
     * @throws QmpException when the socket cannot be reached or capabilities negotiation fails
     */
    public static QmpClient connect(Path socket, Duration greetingTimeout, Duration commandTimeout) throws QmpException {
        Objects.requireNonNull(socket, "socket");
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                ch.close();
                throw e;
            }
        } catch (IOException e) {
            throw new QmpException("cannot connect to QMP socket " + socket + ": " + e.getMessage(), e);
        }
        QmpClient c = new QmpClient(socket, ch, commandTimeout);
        c.reader.start();
        try {
            try {
                c.greeting.get(greetingTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new QmpBusyException("QMP socket busy: no greeting from " + socket + " within "
                        + greetingTimeout.toMillis() + " ms. A QMP socket serves one client at a time: another "
                        + "client (libvirt, socat, another Coffer run) holds it. For libvirt-managed VMs use pull "
                        + "mode (virsh backup-begin) or give QEMU a second QMP monitor.");
            } catch (ExecutionException e) {
                throw c.asQmp(e.getCause(), "QMP greeting from " + socket);
            }
            c.execute("qmp_capabilities");
            return c;
        } catch (QmpException | InterruptedException e) {
            c.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new QmpException("interrupted while connecting to " + socket, e);
            }
            throw (QmpException) e;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The socket this client talks to. */
    public Path socket() {
        return socket;
    }

    /** The greeting's {@code QMP} object ({@code version}, {@code capabilities}). */
    public JsonNode greeting() {
        return greeting.getNow(null);
    }

    /** QEMU's version from the greeting as "major.minor.micro". */
    public String qemuVersion() {
        JsonNode v = greeting().path("version").path("qemu");
        return v.path("major").asInt() + "." + v.path("minor").asInt() + "." + v.path("micro").asInt();
    }

    /** A fresh empty JSON object for arguments. */
    public ObjectNode args() {
        return json.createObjectNode();
    }

    /** The shared mapper (to build argument trees). */
    public ObjectMapper mapper() {
        return json;
    }

    /** Runs a command without arguments. */
    public JsonNode execute(String command) throws QmpException {
        return execute(command, null, commandTimeout);
    }

    /** Runs a command and returns its {@code return} value. */
    public JsonNode execute(String command, JsonNode arguments) throws QmpException {
        return execute(command, arguments, commandTimeout);
    }

    /**
     * Runs a command and returns its {@code return} value ({@code {}} for commands that return
     * nothing).
     *
     * @throws QmpException for an error reply (with QEMU's class and desc), or a closed connection
     * @throws QmpTimeoutException when no reply arrives within {@code timeout}; the connection stays
     *     usable (a late reply is matched by id and dropped), but QEMU may still be busy with it
     */
    public JsonNode execute(String command, JsonNode arguments, Duration timeout) throws QmpException {
        Objects.requireNonNull(command, "command");
        checkOpen();
        String id = "coffer-" + ids.incrementAndGet();
        ObjectNode msg = json.createObjectNode();
        msg.put("execute", command);
        if (arguments != null && !(arguments.isObject() && arguments.isEmpty())) {
            msg.set("arguments", arguments);
        }
        msg.put("id", id);
        Pending p = new Pending(command, new CompletableFuture<>());
        pending.put(id, p);
        try {
            byte[] line;
            try {
                line = (json.writeValueAsString(msg) + "\n").getBytes(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new QmpException("cannot encode QMP " + command + ": " + e.getMessage(), e);
            }
            synchronized (writeLock) {
                checkOpen();
                ByteBuffer buf = ByteBuffer.wrap(line);
                try {
                    while (buf.hasRemaining()) {
                        channel.write(buf);
                    }
                } catch (IOException e) {
                    throw new QmpException("QMP " + command + ": cannot write to " + socket + ": " + e.getMessage(), e);
                }
            }
            try {
                return p.reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new QmpTimeoutException(command, "no reply from " + socket + " within " + timeout.toMillis() + " ms");
            } catch (ExecutionException e) {
                throw asQmp(e.getCause(), "QMP " + command);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QmpException("interrupted waiting for QMP " + command, e);
            }
        } finally {
            pending.remove(id);
        }
    }

    /** Adds a listener called (on the reader thread) for every event, in arrival order. */
    public void addEventListener(Consumer<QmpEvent> listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    public void removeEventListener(Consumer<QmpEvent> listener) {
        listeners.remove(listener);
    }

    /** The oldest queued event, waiting up to {@code timeout}; null when none came. */
    public QmpEvent pollEvent(Duration timeout) throws InterruptedException {
        return events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Removes and returns every queued event. */
    public List<QmpEvent> drainEvents() {
        List<QmpEvent> out = new java.util.ArrayList<>();
        events.drainTo(out);
        return out;
    }

    /**
     * Takes queued events, oldest first, until one matches; the others are dropped from the queue
     * (listeners have seen them). Null when none matches within {@code timeout}.
     */
    public QmpEvent awaitEvent(Predicate<QmpEvent> match, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            QmpEvent e = events.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (e == null) {
                return null;
            }
            if (match.test(e)) {
                return e;
            }
        }
    }

    /** True until {@link #close} or until QEMU closed the connection. */
    public boolean isOpen() {
        return !closed && failure == null;
    }

    /** Closes the socket and stops the reader; outstanding commands fail. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
        failAll(new QmpException("QMP connection to " + socket + " closed", null));
        if (Thread.currentThread() != reader) {
            try {
                reader.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "QmpClient[" + socket + (isOpen() ? "" : ", closed") + "]";
    }

    private void checkOpen() throws QmpException {
        if (closed) {
            throw new QmpException("QMP connection to " + socket + " is closed", null);
        }
        QmpException f = failure;
        if (f != null) {
            throw new QmpException(f.getMessage(), f);
        }
    }

    private QmpException asQmp(Throwable t, String what) {
        if (t instanceof QmpException q) {
            if (q.errorClass() != null) {
                return new QmpException(q.command(), q.errorClass(), q.desc());
            }
            return new QmpException(what + ": " + q.getMessage(), q);
        }
        return new QmpException(what + ": " + t, t);
    }

    private void failAll(QmpException e) {
        greeting.completeExceptionally(e);
        for (Pending p : pending.values()) {
            p.reply.completeExceptionally(e);
        }
    }

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        QmpException end;
        try {
            while (true) {
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) {
                    end = new QmpException("QMP connection closed by QEMU (" + socket + ")", null);
                    break;
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    if (b == '\n') {
                        dispatch(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                    } else if (line.size() >= MAX_LINE) {
                        throw new IOException("QMP message longer than " + MAX_LINE + " bytes");
                    } else {
                        line.write(b);
                    }
                }
            }
        } catch (IOException e) {
            end = closed ? new QmpException("QMP connection to " + socket + " closed", null)
                    : new QmpException("QMP connection to " + socket + " failed: " + e.getMessage(), e);
        }
        failure = end;
        failAll(end);
    }

    private void dispatch(String text) {
        if (text.isBlank()) {
            return;
        }
        JsonNode msg;
        try {
            msg = json.readTree(text);
        } catch (IOException e) {
            return; // not JSON: nothing a reply or an event could be matched to
        }
        if (msg.has("QMP")) {
            greeting.complete(msg.get("QMP"));
        } else if (msg.has("event")) {
            QmpEvent e = QmpEvent.of(msg);
            events.offerLast(e);
            while (events.size() > EVENT_QUEUE_CAPACITY) {
                events.pollFirst();
            }
            for (Consumer<QmpEvent> l : listeners) {
                try {
                    l.accept(e);
                } catch (RuntimeException ignored) {
                    // a listener's bug must not stop the reader
                }
            }
        } else if (msg.has("return") || msg.has("error")) {
            JsonNode id = msg.get("id");
            if (id == null) {
                // QEMU answers unparsable input without an id: every waiting command gets the error
                for (Pending p : pending.values()) {
                    complete(p, msg);
                }
                return;
            }
            Pending p = pending.get(id.asText());
            if (p != null) {
                complete(p, msg);
            }
        }
    }

    private static void complete(Pending p, JsonNode msg) {
        if (msg.has("error")) {
            JsonNode err = msg.get("error");
            p.reply.completeExceptionally(new QmpException(p.command, err.path("class").asText(null),
                    err.path("desc").asText("(no description)")));
        } else {
            p.reply.complete(msg.get("return"));
        }
    }
}
