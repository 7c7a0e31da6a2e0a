package dev.coffer.agent.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.agent.serve.ChunkCache;
import dev.coffer.agent.serve.NbdServer;
import dev.coffer.agent.serve.StoreChunks;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
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

    @Option(names = "--cache-chunks", paramLabel = "N", description = "Decoded chunks kept in memory (default: a quarter of the heap).")
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
        StoreClient client = store.connect(fetchers + 2);
        Path work = Files.createTempDirectory("coffer-serve-");
        StoreChunks chunks = null;
        ChunkCache cache = null;
        NbdServer server = null;
        try {
            var manifest = RestoreRun.manifest(client, id.path(), crypt);
            String name = disk;
            if (name == null) {
                if (manifest.disks().size() != 1) {
                    throw new IllegalArgumentException("restore point " + id + " has " + manifest.disks().size()
                            + " disks; choose one with --disk (" + String.join(", ", manifest.disks().stream().map(ManifestDisk::name).toList()) + ")");
                }
                name = manifest.disks().getFirst().name();
            }
            chunks = StoreChunks.open(client, id.path(), manifest, name, crypt, work);
            int capacity = cacheChunks != null ? cacheChunks : ChunkCache.capacityFor(chunks.chunkSize());
            int readAhead = Math.max(2, (16 << 20) / chunks.chunkSize());
            cache = new ChunkCache(chunks, capacity, readAhead, fetchers);
            server = NbdServer.start(address, name, cache);
        } catch (Exception e) {
            shutdown(server, cache, chunks, client, work);
            throw e;
        }
        NbdServer srv = server;
        ChunkCache c = cache;
        StoreChunks ch = chunks;
        AtomicBoolean done = new AtomicBoolean();
        Runnable stop = () -> {
            if (done.compareAndSet(false, true)) {
                shutdown(srv, c, ch, client, work);
            }
        };
        Thread hook = new Thread(stop, "coffer-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode o = Wire.mapper().createObjectNode();
            o.put("uri", server.uri());
            o.put("size", chunks.size());
            o.put("export", chunks.diskName());
            o.put("snapshot", id.path());
            out.println(o);
        } else {
            out.printf("serving %s of %s (%d bytes) read-only at %s; Ctrl-C stops%n", chunks.diskName(), id.path(), chunks.size(),
                    server.uri());
        }
        out.flush();
        server.await();
        stop.run();
        return 0;
    }

    private static void shutdown(NbdServer server, ChunkCache cache, StoreChunks chunks, StoreClient client, Path work) {
        try {
            if (server != null) {
                server.close();
            }
        } catch (IOException e) {
            // stopping anyway
        }
        if (cache != null) {
            cache.close();
        }
        try {
            if (chunks != null) {
                chunks.close(); // releases the reader lease
            }
        } catch (IOException e) {
            // the lease expires on its own
        }
        client.close();
        try {
            Files.deleteIfExists(work);
        } catch (IOException e) {
            // a temp directory left behind
        }
    }
}
