package dev.coffer.agent.nbd;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How {@link NbdClient#connect} sets up a connection: which metadata contexts to select for
 * BLOCK_STATUS, and how long to wait for a silent server. Immutable; the {@code with…} methods
 * return a copy.
 *
 * @param metaContexts context names for NBD_OPT_SET_META_CONTEXT, e.g. {@code base:allocation};
 *     empty selects none (BLOCK_STATUS is then unavailable)
 * @param timeout how long one request (or the handshake) may go unanswered before the connection is
 *     declared dead
 * @param connectTimeout how long the TCP connect may take
 */
public record NbdClientOptions(List<String> metaContexts, Duration timeout, Duration connectTimeout) {

    /** Default request timeout: long enough for a loaded host, short enough to notice a hang. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** Default TCP connect timeout. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** Validates durations and context names. */
    public NbdClientOptions {
        metaContexts = List.copyOf(metaContexts);
        for (String c : metaContexts) {
            if (c.isEmpty() || c.length() > NbdProtocol.MAX_STRING || c.indexOf(':') < 1) {
                throw new IllegalArgumentException("bad metadata context name '" + c
                        + "'; expected namespace:name, e.g. base:allocation");
            }
        }
        if (metaContexts.stream().distinct().count() != metaContexts.size()) {
            throw new IllegalArgumentException("metadata context listed twice: " + metaContexts);
        }
        if (timeout.isNegative() || timeout.isZero() || connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("NBD timeouts must be positive (timeout " + timeout
                    + ", connect timeout " + connectTimeout + ")");
        }
    }

    /** {@code base:allocation}, 60 s request timeout, 10 s connect timeout. */
    public static NbdClientOptions defaults() {
        return new NbdClientOptions(List.of(BlockStatus.BASE_ALLOCATION), DEFAULT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT);
    }

    /** A copy that also selects {@code qemu:dirty-bitmap:NAME}. */
    public NbdClientOptions withDirtyBitmap(String bitmap) {
        if (bitmap == null || bitmap.isEmpty()) {
            throw new IllegalArgumentException("dirty bitmap name must not be empty");
        }
        List<String> list = new ArrayList<>(metaContexts);
        list.add(BlockStatus.DIRTY_BITMAP_PREFIX + bitmap);
        return new NbdClientOptions(list, timeout, connectTimeout);
    }

    /** A copy selecting exactly these contexts. */
    public NbdClientOptions withMetaContexts(List<String> contexts) {
        return new NbdClientOptions(contexts, timeout, connectTimeout);
    }

    /** A copy with another request timeout. */
    public NbdClientOptions withTimeout(Duration requestTimeout) {
        return new NbdClientOptions(metaContexts, requestTimeout, connectTimeout);
    }

    /** A copy with another connect timeout. */
    public NbdClientOptions withConnectTimeout(Duration connect) {
        return new NbdClientOptions(metaContexts, timeout, connect);
    }
}
