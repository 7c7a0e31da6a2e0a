package dev.coffer.agent.archive;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Renews a session or reader lease on a timer while an archive command runs. Export and import
 * move data at the pace of a pipe: when the other end stalls (a slow {@code ssh}, a tape changing)
 * no request may reach the store for minutes, and a lease that expires would end the export's
 * reader or abort the import's session. A failed beat is ignored: the next one retries, and the
 * command's own next request reports a real failure.
 */
final class Heartbeat implements AutoCloseable {

    /** One beat: a heartbeat request to the store. */
    @FunctionalInterface
    interface Beat {
        void run() throws IOException;
    }

    /** Beats when the store does not say how long its leases are. */
    static final long DEFAULT_INTERVAL_S = 30;

    private final ScheduledExecutorService timer;

    private Heartbeat(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /**
     * Starts beating three times per lease ({@code leaseS} from the store, 0 when it did not say:
     * then every {@link #DEFAULT_INTERVAL_S} seconds).
     */
    static Heartbeat start(String name, long leaseS, Beat beat) {
        long every = leaseS > 0 ? Math.max(1, leaseS / 3) : DEFAULT_INTERVAL_S;
        ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, name);
            th.setDaemon(true);
            return th;
        });
        t.scheduleAtFixedRate(() -> {
            try {
                beat.run();
            } catch (IOException | RuntimeException e) {
                // the next beat retries; the command's next request reports a real failure
            }
        }, every, every, TimeUnit.SECONDS);
        return new Heartbeat(t);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
