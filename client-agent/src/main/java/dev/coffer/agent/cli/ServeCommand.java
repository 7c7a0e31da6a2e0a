package dev.coffer.agent.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.agent.serve.ServedDisk;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code coffer serve SNAPSHOT --listen unix:PATH}: one disk of a restore point as a read-only NBD export. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serves one disk of a restore point as a read-only NBD export (instant access), until SIGTERM or Ctrl-C.",
            "The disk is exported under its name and as the default export; qemu-img, nbdcopy and QEMU read it directly. "
                + "Chunks are fetched on demand through one reader lease, verified, and kept in a bounded cache."})
public final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "The restore point, such as vm/101/2026-11-22T10:00:00Z.")
    String snapshot;

    @Option(names = "--disk", paramLabel = "NAME", description = "The disk to serve (default: the only disk).")
    String disk;

    @Option(names = "--listen", paramLabel = "ADDRESS", required = true,
            description = "unix:PATH, or [ADDR:]PORT for TCP (ADDR defaults to 127.0.0.1).")
    String listen;

    @Option(names = "--cache-chunks", paramLabel = "N", description = "Decoded chunks kept in memory (default: what fits in half the heap).")
    Integer cacheChunks;

    @Option(names = "--json", description = "Print one JSON line {\"uri\", \"size\"} once listening.")
    boolean json;

    @Mixin
    StoreOptions store;

    @Mixin
    KeyOptions key;

    /** Parses {@code --listen}. */
    static SocketAddress address(String listen) {
        if (listen.startsWith("unix:")) {
            String path = listen.substring(5);
            if (path.isEmpty()) {
                throw new IllegalArgumentException("--listen unix: needs a socket path");
            }
            return UnixDomainSocketAddress.of(Path.of(path).toAbsolutePath());
        }
        String host = "127.0.0.1";
        String port = listen;
        int colon = listen.lastIndexOf(':');
        if (colon >= 0) {
            host = listen.substring(0, colon);
            port = listen.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty()) {
                host = "127.0.0.1";
            }
        }
        try {
            int p = Integer.parseInt(port);
            if (p < 0 || p > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(host, p);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen " + listen + ": expected unix:PATH or [ADDR:]PORT");
        }
    }

    @Override
    public Integer call() throws Exception {
        SnapshotId id = SnapshotId.parsePath(snapshot);
        SocketAddress address = address(listen);
        CryptConfig crypt = key.load();
        int fetchers = Math.max(4, Runtime.getRuntime().availableProcessors());
        ServedDisk served;
        try (StoreClient client = store.connect(fetchers + 2)) {
            var manifest = RestoreRun.manifest(client, id.path(), crypt);
            String name = disk;
            if (name == null) {
                if (manifest.disks().size() != 1) {
                    throw new IllegalArgumentException("restore point " + id + " has " + manifest.disks().size()
                            + " disks; choose one with --disk (" + String.join(", ", manifest.disks().stream().map(ManifestDisk::name).toList()) + ")");
                }
                name = manifest.disks().getFirst().name();
            }
            served = ServedDisk.open(client, id.path(), manifest, name, crypt, address, fetchers, cacheChunks != null ? cacheChunks : 0);
            // SIGTERM or Ctrl-C: close the connections, release the reader lease, remove the socket
            Thread hook = new Thread(served::close, "coffer-serve-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectNode o = Wire.mapper().createObjectNode();
                o.put("uri", served.uri());
                o.put("size", served.size());
                o.put("export", name);
                o.put("snapshot", id.path());
                out.println(o);
            } else {
                out.printf("serving %s of %s (%d bytes) read-only at %s; Ctrl-C stops%n", name, id.path(), served.size(), served.uri());
            }
            out.flush();
            served.await();
            served.close();
        }
        return 0;
    }
}
