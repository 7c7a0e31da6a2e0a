package dev.coffer.store.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.chunker.Names;
import dev.coffer.store.api.Wire;
import dev.coffer.store.datastore.Datastore;
import dev.coffer.store.datastore.DatastoreOptions;
import dev.coffer.store.datastore.SyncLevel;
import dev.coffer.store.server.ServerConfig;
import dev.coffer.store.server.StoreServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code coffer server}: runs a store until stopped (SIGTERM or Ctrl-C shut it down cleanly:
 * open sessions are aborted, nothing half-written is published).
 */
@Command(name = "server", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs a store server. The first start creates each datastore, an admin token (printed once) "
                + "and a TLS certificate, and prints the certificate fingerprint clients pin.",
            "With --json the first line on stdout is {\"url\", \"datastore\", \"fingerprint\", \"token\"} once it listens."})
public final class ServerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML configuration (datastores with their options, listen, state, tls, session-lease); flags override it.")
    Path config;

    @Option(names = "--datastore", paramLabel = "[NAME=]DIR",
            description = "A datastore to serve (repeatable); NAME defaults to 'default'. Created when DIR is missing or empty.")
    List<String> datastores = new ArrayList<>();

    @Option(names = "--listen", paramLabel = "ADDR:PORT",
            description = "Address and port to listen on (default 0.0.0.0:8007; port 0 picks a free one).")
    String listen;

    @Option(names = "--state", paramLabel = "DIR",
            description = "Where tokens and the TLS certificate live (default: DIR/.coffer/server of the first datastore).")
    Path state;

    @Option(names = "--chunk-size", paramLabel = "BYTES", defaultValue = "1048576",
            description = "Chunk size of datastores created now: a power of two from 65536 to 4194304 (default ${DEFAULT-VALUE});"
                    + " a datastore keeps the size it was created with.")
    int chunkSize;

    @Option(names = "--sync-level", paramLabel = "LEVEL", defaultValue = "filesystem",
            description = "file, filesystem or none (default ${DEFAULT-VALUE}).")
    String syncLevel;

    @Option(names = "--dedup-scope", paramLabel = "SCOPE", defaultValue = "session",
            description = "session (default: reuse only a group's own chunks) or datastore (trusted single tenant).")
    String dedupScope;

    @Option(names = "--tls-name", paramLabel = "NAME", description = "Extra DNS name or IP for the generated certificate (repeatable).")
    List<String> tlsNames = new ArrayList<>();

    @Option(names = "--insecure-http", description = "Serve plain HTTP; allowed only on a loopback address.")
    boolean insecureHttp;

    @Option(names = "--session-lease", paramLabel = "SECONDS",
            description = "Seconds an idle backup or reader session lives (default 300).")
    Long leaseSeconds;

    @Option(names = "--json", description = "Print the start line as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ServerConfig.Parsed file = config == null ? null : ServerConfig.read(config);
        if (listen == null) {
            listen = file != null && file.listen() != null ? file.listen() : "0.0.0.0:8007";
        }
        if (leaseSeconds == null) {
            leaseSeconds = file != null && file.sessionLease() != null ? file.sessionLease() : 300L;
        }
        if (datastores.isEmpty() && (file == null || file.datastores().isEmpty())) {
            throw new ParameterException(spec.commandLine(), "no datastore: pass --datastore [NAME=]DIR or --config FILE with datastores");
        }
        int colon = listen.lastIndexOf(':');
        if (colon < 0) {
            throw new ParameterException(spec.commandLine(), "--listen must be ADDR:PORT, got '" + listen + "'");
        }
        String host = listen.substring(0, colon).replaceAll("^\\[|\\]$", "");
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ParameterException(spec.commandLine(), "--listen port must be a number, got '" + listen + "'");
        }
        DatastoreOptions base;
        try {
            base = DatastoreOptions.DEFAULT.withSyncLevel(SyncLevel.parse(syncLevel))
                    .withDedupScope(DatastoreOptions.DedupScope.parse(dedupScope));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Map<String, StoreServer.DatastoreSpec> specs = new LinkedHashMap<>();
        if (file != null) {
            specs.putAll(file.datastores());
        }
        for (String d : datastores) {
            int eq = d.indexOf('=');
            String name = eq < 0 ? "default" : d.substring(0, eq);
            Path dir = Path.of(eq < 0 ? d : d.substring(eq + 1)).toAbsolutePath();
            try {
                Names.datastore(name);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            if (specs.containsKey(name)) {
                throw new ParameterException(spec.commandLine(), "datastore '" + name + "' is named twice");
            }
            int existing = Datastore.existingChunkSize(dir);
            int size = existing > 0 ? existing : chunkSize;
            try {
                specs.put(name, new StoreServer.DatastoreSpec(dir, base.withChunkSize(size)));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        Path stateDir = state != null ? state : file != null && file.state() != null ? file.state()
                : specs.values().iterator().next().dir().resolve(".coffer").resolve("server");
        List<String> names = new ArrayList<>(tlsNames);
        if (file != null) {
            names.addAll(file.tlsNames());
        }
        StoreServer server = StoreServer.start(new StoreServer.Options(host, port, insecureHttp, stateDir, specs,
                Duration.ofSeconds(leaseSeconds), names, file == null ? null : file.tlsCert(), file == null ? null : file.tlsKey()));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("coffer server: error while stopping: " + e.getMessage());
            } finally {
                stopped.countDown();
            }
        }, "coffer-server-stop"));
        PrintWriter out = spec.commandLine().getOut();
        String ds = server.defaultDatastore();
        if (json) {
            ObjectNode n = Wire.mapper().createObjectNode();
            n.put("url", server.url());
            n.put("datastore", ds);
            n.put("fingerprint", server.fingerprint());
            server.bootstrapToken().ifPresent(t -> n.put("token", t));
            out.println(Wire.mapper().writeValueAsString(n));
        } else {
            out.println("coffer server listening on " + server.url() + " serving " + String.join(", ", server.datastores().keySet()));
            if (server.fingerprint() != null) {
                out.println("certificate fingerprint: " + server.fingerprint());
            }
            server.bootstrapToken().ifPresent(t -> {
                out.println("admin token (shown once, keep it safe): " + t);
            });
            out.println("clients: export COFFER_STORE=" + server.url() + "/" + ds
                    + (server.fingerprint() == null ? "" : " COFFER_FINGERPRINT=" + server.fingerprint()) + " COFFER_TOKEN=...");
        }
        out.flush();
        stopped.await();
        return 0;
    }
}
