package dev.coffer.agent.vm;

import dev.coffer.agent.nbd.NbdUri;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * Where QEMU's NBD server listens, as the agent reaches it: a unix socket or TCP host and port.
 * QMP cannot tell the address of a server someone else started, hence {@code --nbd-socket} and
 * {@code --nbd-address}.
 */
record NbdEndpoint(Path socket, String host, int port) {

    static NbdEndpoint unix(Path socket) {
        return new NbdEndpoint(socket, null, 0);
    }

    /** {@code HOST:PORT} ({@code [v6]:PORT} for IPv6). */
    static NbdEndpoint tcp(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("--nbd-address must be HOST:PORT, got '" + address + "'");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--nbd-address must be HOST:PORT, got '" + address + "'");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--nbd-address port must be 1..65535, got " + port);
        }
        return new NbdEndpoint(null, host, port);
    }

    NbdUri uri(String export) {
        return socket != null ? NbdUri.unix(socket, export) : NbdUri.tcp(host, port, export);
    }

    /** True when something accepts connections on the unix socket. */
    static boolean answers(Path socket) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return c.isConnected();
        } catch (IOException e) {
            return false;
        }
    }
}
