package dev.coffer.agent.cli;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A one-line progress display on stderr — bytes, rate, ETA — redrawn at most twice a second,
 * and only on a terminal (a pipe or a log file gets nothing; {@code --json} output stays clean).
 */
final class ProgressLine implements LongConsumer, AutoCloseable {

    private final String label;
    private final long total;
    private final boolean enabled;
    private final PrintStream err = System.err;
    private final AtomicLong done = new AtomicLong();
    private final long started = System.nanoTime();
    private volatile long lastDraw;

    ProgressLine(String label, long total) {
        this.label = label;
        this.total = total;
        this.enabled = System.console() != null && System.console().isTerminal();
    }

    @Override
    public void accept(long bytes) {
        long d = done.addAndGet(bytes);
        long now = System.nanoTime();
        if (enabled && now - lastDraw > 500_000_000L) {
            lastDraw = now;
            draw(d, now);
        }
    }

    private synchronized void draw(long d, long now) {
        double secs = Math.max(1e-3, (now - started) / 1e9);
        double rate = d / secs;
        String eta = rate > 0 && total > d ? String.format("%.0fs", (total - d) / rate) : "-";
        err.printf("\r%s %s / %s  %s/s  ETA %s   ", label, human(d), human(total), human((long) rate), eta);
        err.flush();
    }

    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format("%.1f %s", v, units[u]);
    }

    @Override
    public void close() {
        if (enabled) {
            draw(done.get(), System.nanoTime());
            err.println();
        }
    }
}
