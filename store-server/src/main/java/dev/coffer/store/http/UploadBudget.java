package dev.coffer.store.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many bytes of chunk upload bodies the server holds in memory at once, in all and per token.
 *
 * <p>A chunk upload is received into an array of its announced Content-Length (up to 16 MiB)
 * before it is checked and stored, so without a bound a client — or a few stalled or malicious
 * ones with a valid backup token — could pin the server's heap with uploads that never finish. A
 * request that would exceed the budget is answered 503 {@code busy} at once, before its body is
 * read, and the client retries it a moment later; no token may hold more than half the budget,
 * so one host cannot starve the others. Non-blocking: it runs on the event loop.
 */
final class UploadBudget {

    private final long total;
    private final long perToken;
    private final AtomicLong used = new AtomicLong();
    private final ConcurrentHashMap<String, AtomicLong> byToken = new ConcurrentHashMap<>();

    /** @param total bytes of upload bodies in memory at once; each token gets at most half */
    UploadBudget(long total) {
        if (total <= 0) {
            throw new IllegalArgumentException("upload budget must be positive, got " + total);
        }
        this.total = total;
        this.perToken = Math.max(1, total / 2);
    }

    /** A quarter of the heap, at least 64 MiB: room for 16 uploads of 4 MiB chunks on the smallest server. */
    static UploadBudget forHeap(long maxHeap) {
        return new UploadBudget(Math.max(64L << 20, maxHeap / 4));
    }

    long total() {
        return total;
    }

    long used() {
        return used.get();
    }

    /** Reserves {@code bytes} for {@code token}; false (nothing reserved) when that would exceed either limit. */
    boolean tryReserve(String token, long bytes) {
        // one counter per token id that ever uploaded: valid tokens only (this runs after authentication), a few dozen
        AtomicLong mine = byToken.computeIfAbsent(token, t -> new AtomicLong());
        if (mine.addAndGet(bytes) > perToken) {
            mine.addAndGet(-bytes);
            return false;
        }
        if (used.addAndGet(bytes) > total) {
            used.addAndGet(-bytes);
            mine.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    /** Gives back what {@link #tryReserve} took. */
    void release(String token, long bytes) {
        used.addAndGet(-bytes);
        byToken.get(token).addAndGet(-bytes);
    }
}
