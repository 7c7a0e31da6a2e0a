package dev.coffer.agent.vm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A pass-through between the agent and a real QEMU's QMP socket that can add an event of its own
 * to what QEMU sends. It exists for one fault the rig cannot produce on demand: a
 * {@code BLOCK_IO_ERROR} with {@code nospace: true}, which QEMU emits when a guest device's write
 * fails for lack of space — whether a scratch fills up before the agent's free-space check sees it
 * is a race, so a test cannot wait for the real one. Everything else is QEMU's own traffic.
 * One agent connection at a time, as QEMU's {@code server=on} chardev allows.
 */
final class QmpEventInjector implements AutoCloseable {

    private final ServerSocketChannel listener;
    private final Path upstream;
    private final Object toAgentLock = new Object();
    private volatile OutputStream toAgent;
    private volatile SocketChannel agent;
    private volatile SocketChannel qemu;

    private QmpEventInjector(Path socket, Path upstream) throws IOException {
        this.upstream = upstream;
        Files.deleteIfExists(socket);
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
        Thread.ofPlatform().daemon().name("qmp-injector").start(this::serve);
    }

    /** Listens on {@code socket} and connects each agent to QEMU's QMP socket {@code upstream}. */
    static QmpEventInjector start(Path socket, Path upstream) throws IOException {
        return new QmpEventInjector(socket, upstream);
    }

    private void serve() {
        try {
            while (true) {
                SocketChannel a = listener.accept();
                SocketChannel q = SocketChannel.open(UnixDomainSocketAddress.of(upstream));
                agent = a;
                qemu = q;
                OutputStream out = Channels.newOutputStream(a);
                synchronized (toAgentLock) {
                    toAgent = out;
                }
                Thread.ofPlatform().daemon().name("qmp-injector-up").start(() -> copy(Channels.newInputStream(a), Channels.newOutputStream(q)));
                copyLines(Channels.newInputStream(q), out);
                a.close();
                q.close();
            }
        } catch (IOException e) {
            // closed
        }
    }

    private static void copy(InputStream in, OutputStream out) {
        try (in; out) {
            in.transferTo(out);
        } catch (IOException e) {
            // one side went away: the other copier ends too
        }
    }

    /** QEMU → agent, a whole line at a time, so an injected event never lands inside one of QEMU's. */
    private void copyLines(InputStream in, OutputStream out) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    line.write(buf[i]);
                    if (buf[i] == '\n') {
                        synchronized (toAgentLock) {
                            line.writeTo(out);
                            out.flush();
                        }
                        line.reset();
                    }
                }
            }
        } catch (IOException e) {
            // the agent or QEMU went away
        }
    }

    /** Sends {@code json} (one QMP event object) to the connected agent as if QEMU had sent it. */
    void inject(String json) throws IOException {
        synchronized (toAgentLock) {
            if (toAgent == null) {
                throw new IOException("no agent is connected");
            }
            toAgent.write((json + "\r\n").getBytes(StandardCharsets.UTF_8));
            toAgent.flush();
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (SocketChannel c : new SocketChannel[] {agent, qemu}) {
            if (c != null) {
                c.close();
            }
        }
    }
}
