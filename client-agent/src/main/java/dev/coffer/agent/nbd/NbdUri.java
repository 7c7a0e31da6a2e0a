package dev.coffer.agent.nbd;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Where an NBD export lives, parsed from the URI syntax that libnbd, nbdinfo, nbdcopy and
 * {@code qemu-img} share, so an operator can paste the same string into any of them:
 * <ul>
 *   <li>{@code nbd://host[:port][/export]} — TCP, port 10809 by default;</li>
 *   <li>{@code nbd+unix:///export?socket=/path/to.sock} — a unix socket.</li>
 * </ul>
 * An empty export ({@code nbd://host}, {@code nbd+unix:///?socket=…}) selects the server's
 * default export. The export is percent-decoded. TLS ({@code nbds}) and vsock are refused with a
 * message saying so rather than being silently connected in the clear.
 *
 * @param host the TCP host (null for a unix socket)
 * @param port the TCP port (0 for a unix socket)
 * @param socket the unix socket path (null for TCP)
 * @param export the export name, "" for the default export
 */
public record NbdUri(String host, int port, Path socket, String export) {

    /** The IANA port of NBD. */
    public static final int DEFAULT_PORT = 10809;

    /** Checks that exactly one of TCP address and socket is given. */
    public NbdUri {
        if (export == null) {
            throw new IllegalArgumentException("NBD export name must not be null (use \"\" for the default export)");
        }
        if (export.getBytes(StandardCharsets.UTF_8).length > NbdProtocol.MAX_STRING) {
            throw new IllegalArgumentException("NBD export name is longer than " + NbdProtocol.MAX_STRING + " bytes");
        }
        if ((host == null) == (socket == null)) {
            throw new IllegalArgumentException("an NBD address is either a TCP host or a unix socket, not "
                    + (host == null ? "neither" : "both"));
        }
        if (host != null && (host.isEmpty() || port < 1 || port > 65535)) {
            throw new IllegalArgumentException("bad NBD TCP address '" + host + "' port " + port);
        }
        if (socket != null && port != 0) {
            throw new IllegalArgumentException("a unix-socket NBD address has no port");
        }
    }

    /** A unix-socket export. */
    public static NbdUri unix(Path socket, String export) {
        return new NbdUri(null, 0, socket, export);
    }

    /** A TCP export. */
    public static NbdUri tcp(String host, int port, String export) {
        return new NbdUri(host, port, null, export);
    }

    /**
     * Parses an NBD URI.
     *
     * @param text e.g. {@code nbd://10.0.0.5:10809/vda} or {@code nbd+unix:///b1?socket=/run/nbd.sock}
     * @return the parsed address and export
     * @throws IllegalArgumentException with a message quoting the URI and saying what is wrong
     */
    public static NbdUri parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty NBD URI; expected nbd://host[:port][/export] "
                    + "or nbd+unix:///export?socket=/path");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw bad(text, "not a valid URI (" + e.getReason() + " at index " + e.getIndex() + ")");
        }
        String scheme = uri.getScheme();
        if (scheme == null) {
            throw bad(text, "no scheme; expected nbd:// or nbd+unix://");
        }
        if (uri.isOpaque()) {
            throw bad(text, "expected '" + scheme + "://'");
        }
        String export = exportOf(text, uri);
        return switch (scheme.toLowerCase(java.util.Locale.ROOT)) {
            case "nbd", "nbd+tcp" -> {
                if (uri.getRawQuery() != null) {
                    throw bad(text, "query parameters are not supported for nbd:// (got '" + uri.getRawQuery() + "')");
                }
                if (uri.getHost() == null) {
                    throw bad(text, uri.getRawAuthority() == null
                            ? "no host; expected nbd://host[:port][/export]"
                            : "bad host or port '" + uri.getRawAuthority() + "'");
                }
                if (uri.getPort() > 65535 || uri.getPort() == 0) {
                    throw bad(text, "bad host or port '" + uri.getRawAuthority() + "' (port must be 1..65535)");
                }
                if (uri.getUserInfo() != null) {
                    throw bad(text, "user names are not supported");
                }
                String host = uri.getHost();
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                yield tcp(host, uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort(), export);
            }
            case "nbd+unix" -> {
                if (uri.getRawAuthority() != null) {
                    throw bad(text, "a unix-socket URI has no host; write nbd+unix:///export?socket=/path");
                }
                yield unix(socketOf(text, uri), export);
            }
            case "nbds", "nbds+tcp", "nbds+unix" -> throw bad(text, "TLS (nbds) is not supported by this client; "
                    + "use nbd:// over a trusted network or a unix socket");
            case "nbd+vsock", "nbds+vsock" -> throw bad(text, "vsock is not supported; use nbd:// or nbd+unix://");
            default -> throw bad(text, "unknown scheme '" + scheme + "'; expected nbd:// or nbd+unix://");
        };
    }

    private static String exportOf(String text, URI uri) {
        String path = uri.getPath();
        if (path == null || path.isEmpty() || path.equals("/")) {
            return "";
        }
        if (!path.startsWith("/")) {
            throw bad(text, "the export must follow a '/'");
        }
        return path.substring(1);
    }

    private static Path socketOf(String text, URI uri) {
        String query = uri.getRawQuery();
        if (query == null || query.isEmpty()) {
            throw bad(text, "missing ?socket=/path for nbd+unix");
        }
        Path socket = null;
        for (String param : query.split("&")) {
            int eq = param.indexOf('=');
            String name = eq < 0 ? param : param.substring(0, eq);
            String value = eq < 0 ? "" : java.net.URLDecoder.decode(param.substring(eq + 1).replace("+", "%2B"),
                    StandardCharsets.UTF_8);
            if (!name.equals("socket")) {
                throw bad(text, "unknown query parameter '" + name + "' (only socket= is supported)");
            }
            if (socket != null) {
                throw bad(text, "socket= given twice");
            }
            if (value.isEmpty()) {
                throw bad(text, "socket= is empty");
            }
            socket = Path.of(value);
        }
        return socket;
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("bad NBD URI '" + text + "': " + why);
    }

    /** Whether the export is reached over a unix socket. */
    public boolean isUnix() {
        return socket != null;
    }

    /** The socket address to connect to; resolves the TCP host name now. */
    public SocketAddress address() {
        return isUnix() ? UnixDomainSocketAddress.of(socket) : new InetSocketAddress(host, port);
    }

    /** The URI in the form {@link #parse} accepts, with the export percent-encoded where needed. */
    @Override
    public String toString() {
        String path = "/" + encode(export);
        if (isUnix()) {
            return "nbd+unix://" + path + "?socket=" + socket;
        }
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return "nbd://" + h + (port == DEFAULT_PORT ? "" : ":" + port) + (export.isEmpty() ? "" : path);
    }

    private static String encode(String s) {
        try {
            return new URI(null, null, s, null).getRawPath();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
