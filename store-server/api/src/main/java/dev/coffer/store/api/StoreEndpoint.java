package dev.coffer.store.api;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;

/**
 * Where a client finds its store and how it proves who it is, like restic's repository URL:
 * {@code COFFER_STORE=https://host:port/<datastore>}, {@code COFFER_TOKEN}, {@code COFFER_FINGERPRINT}.
 *
 * @param baseUri scheme, host and port of the server
 * @param datastore the datastore name (the URL's path)
 * @param token the bearer token
 * @param fingerprint the pinned SHA-256 fingerprint of the server certificate (null only for http)
 */
public record StoreEndpoint(URI baseUri, String datastore, String token, String fingerprint) {

    public StoreEndpoint {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("no token: set COFFER_TOKEN or pass --token");
        }
        if ("https".equals(baseUri.getScheme()) && (fingerprint == null || fingerprint.isBlank())) {
            throw new IllegalArgumentException("no server fingerprint for " + baseUri
                    + ": set COFFER_FINGERPRINT (coffer server prints it at start) or pass --fingerprint");
        }
    }

    /**
     * Parses a store URL, {@code https://host:port/datastore}.
     *
     * @throws IllegalArgumentException with a one-line reason
     */
    public static StoreEndpoint parse(String url, String token, String fingerprint) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("no store: set COFFER_STORE=https://HOST:PORT/DATASTORE or pass --store");
        }
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("store URL '" + url + "' is not a URL: " + e.getReason());
        }
        if (!"https".equals(u.getScheme()) && !"http".equals(u.getScheme())) {
            throw new IllegalArgumentException("store URL '" + url + "' must start with https:// (or http:// on loopback)");
        }
        if (u.getHost() == null || u.getPort() < 0) {
            throw new IllegalArgumentException("store URL '" + url + "' needs a host and a port, like https://backup.example:8007/default");
        }
        String path = u.getPath() == null ? "" : u.getPath().replaceAll("^/+|/+$", "");
        if (path.isEmpty() || path.contains("/")) {
            throw new IllegalArgumentException("store URL '" + url + "' must name one datastore as its path, like https://host:8007/default");
        }
        return new StoreEndpoint(URI.create(u.getScheme() + "://" + u.getHost() + ":" + u.getPort()), path, token, fingerprint);
    }

    /** From {@code COFFER_STORE}, {@code COFFER_TOKEN}, {@code COFFER_FINGERPRINT}, each overridden by a non-null flag value. */
    public static StoreEndpoint fromEnvironment(Map<String, String> env, String store, String token, String fingerprint) {
        return parse(store != null ? store : env.get("COFFER_STORE"), token != null ? token : env.get("COFFER_TOKEN"),
                fingerprint != null ? fingerprint : env.get("COFFER_FINGERPRINT"));
    }

    /** The URL as an operator writes it. */
    public String url() {
        return baseUri + "/" + datastore;
    }
}
