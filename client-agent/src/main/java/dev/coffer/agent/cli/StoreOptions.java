package dev.coffer.agent.cli;

import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.StoreEndpoint;
import picocli.CommandLine.Option;

/**
 * How a client command reaches its store, like restic: flags, else {@code COFFER_STORE},
 * {@code COFFER_TOKEN}, {@code COFFER_FINGERPRINT}.
 */
public final class StoreOptions {

    @Option(names = "--store", paramLabel = "URL", description = "The store, https://HOST:PORT/DATASTORE (default: $COFFER_STORE).")
    String store;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Access token (default: $COFFER_TOKEN).")
    String token;

    @Option(names = "--fingerprint", paramLabel = "SHA256",
            description = "The server certificate's fingerprint to pin (default: $COFFER_FINGERPRINT).")
    String fingerprint;

    @Option(names = "--ns", paramLabel = "NAMESPACE", description = "Namespace of the group (default: the root).")
    String ns;

    /** The endpoint from flags and environment; IllegalArgumentException with a one-line reason when incomplete. */
    public StoreEndpoint endpoint() {
        return StoreEndpoint.fromEnvironment(System.getenv(), store, token, fingerprint);
    }

    /** A connected client with {@code connections} requests in flight at most. */
    public StoreClient connect(int connections) {
        return StoreClient.connect(endpoint(), connections);
    }

    public String ns() {
        return ns == null || ns.isEmpty() ? null : ns;
    }
}
