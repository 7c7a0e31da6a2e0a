package dev.coffer.agent.serve;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * A read-only NBD server for one disk: it accepts connections on a unix socket or TCP address
 * and serves each on its own virtual thread ({@link NbdServerConnection}), for as many clients as
 * connect. The disk is exported under its name and as the default (empty-named) export.
 */
public final class NbdServer implements AutoCloseable {

    private final ServerSocketChannel listener;
    private final Path socketFile;
    private final String exportName;
    private final ChunkSource disk;
    private final Set<NbdServerConnection> connections = ConcurrentHashMap.newKeySet();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final LongAdder dataBytesServed = new LongAdder();
    private final Thread acceptor;
    private volatile boolean closing;

    private NbdServer(ServerSocketChannel listener, Path socketFile, String exportName, ChunkSource disk) {
        this.listener = listener;
        this.socketFile = socketFile;
        this.exportName = exportName;
        this.disk = disk;
        this.acceptor = Thread.ofPlatform().name("coffer-serve-accept").daemon(true).start(this::accept);
    }

    /** Listens on {@code address} (a {@link UnixDomainSocketAddress} or an {@link InetSocketAddress}) and starts serving. */
    public static NbdServer start(SocketAddress address, String exportName, ChunkSource disk) throws IOException {
        Path socketFile = null;
        ServerSocketChannel ch;
        if (address instanceof UnixDomainSocketAddress unix) {
            socketFile = unix.getPath();
            removeStaleSocket(socketFile);
            ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        } else {
            ch = ServerSocketChannel.open();
        }
        try {
            ch.bind(address, 64);
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot listen on " + describe(address) + ": " + e.getMessage(), e);
        }
        return new NbdServer(ch, socketFile, exportName, disk);
    }

    /** A socket file nobody listens on is left over from a killed server: remove it; one in use is an error. */
    private static void removeStaleSocket(Path file) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(file))) {
            throw new IOException("socket " + file + " is in use by another server");
        } catch (java.net.ConnectException e) {
            Files.delete(file);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("in use by another server")) {
                throw e;
            }
            throw new IOException("socket " + file + " exists and is not a free unix socket: " + e.getMessage(), e);
        }
    }

    private static String describe(SocketAddress a) {
        return a instanceof UnixDomainSocketAddress u ? "unix:" + u.getPath() : a.toString();
    }

    /** Where the server listens (with the real port when port 0 was asked for). */
    public SocketAddress address() throws IOException {
        return listener.getLocalAddress();
    }

    /** The NBD URI of the disk's export, as qemu-img and libnbd spell it. */
    public String uri() throws IOException {
        SocketAddress a = address();
        if (a instanceof UnixDomainSocketAddress u) {
            return "nbd+unix:///" + exportName + "?socket=" + u.getPath().toAbsolutePath();
        }
        InetSocketAddress inet = (InetSocketAddress) a;
        String host = inet.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "nbd://" + host + ":" + inet.getPort() + "/" + exportName;
    }

    private void accept() {
        try {
            while (!closing) {
                SocketChannel ch = listener.accept();
                NbdServerConnection c = new NbdServerConnection(ch, exportName, disk, dataBytesServed, connections::remove);
                connections.add(c);
                Thread.ofVirtual().name("coffer-serve-conn").start(c);
            }
        } catch (IOException e) {
            if (!closing) {
                System.err.println("coffer serve: accepting connections failed: " + e.getMessage());
            }
        } finally {
            stopped.countDown();
        }
    }

    /** Blocks until the server stops (it is closed, or accepting fails). */
    public void await() throws InterruptedException {
        stopped.await();
    }

    /**
     * Bytes of data chunks sent in READ replies so far, over every connection: what clients read of
     * the disk's data. Zero chunks (holes, or zeros in a simple reply) are not counted, nor replies
     * that failed; a range read twice counts twice.
     */
    public long dataBytesServed() {
        return dataBytesServed.sum();
    }

    /** Connections being served now. */
    public int connections() {
        return connections.size();
    }

    /** Stops listening and drops every connection. */
    @Override
    public void close() throws IOException {
        closing = true;
        try {
            listener.close();
        } finally {
            connections.forEach(NbdServerConnection::close);
            if (socketFile != null) {
                Files.deleteIfExists(socketFile);
            }
            try {
                acceptor.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
