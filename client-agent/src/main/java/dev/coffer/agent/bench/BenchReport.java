package dev.coffer.agent.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Renders results for people: an aligned text table for the terminal and a Markdown table for
 * docs/benchmarks.md. Both have one row per op and data kind and one MB/s column per thread
 * count, so single-thread and all-core figures sit side by side.
 */
public final class BenchReport {

    private final List<BenchResult> results;
    private final List<Integer> threadCounts;
    private final Map<String, Map<Integer, Double>> rows = new LinkedHashMap<>();

    /** A report of {@code results}, rows in the order the results come. */
    public BenchReport(List<BenchResult> results) {
        this.results = List.copyOf(results);
        this.threadCounts = new ArrayList<>(new TreeSet<>(results.stream().map(BenchResult::threads).toList()));
        for (BenchResult r : results) {
            rows.computeIfAbsent(r.op() + "\t" + r.data(), k -> new LinkedHashMap<>()).put(r.threads(), r.mbPerSecond());
        }
    }

    /** The results this report shows. */
    public List<BenchResult> results() {
        return results;
    }

    /** An aligned plain-text table ending with a newline; MB = 10^6 bytes. */
    public String table() {
        List<String[]> lines = new ArrayList<>();
        lines.add(header());
        rows.forEach((key, byThreads) -> lines.add(row(key, byThreads)));
        int[] widths = new int[lines.getFirst().length];
        for (String[] line : lines) {
            for (int i = 0; i < line.length; i++) {
                widths[i] = Math.max(widths[i], line[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] line : lines) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < line.length; i++) {
                // names left-aligned, numbers right-aligned
                text.append(pad(line[i], widths[i], i >= 2)).append("  ");
            }
            out.append(text.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    /** A GitHub-flavoured Markdown table ending with a newline. */
    public String markdown() {
        StringBuilder out = new StringBuilder();
        String[] header = header();
        out.append("| ").append(String.join(" | ", header)).append(" |\n");
        out.append("|---|---|");
        out.append("---:|".repeat(header.length - 2)).append('\n');
        rows.forEach((key, byThreads) -> out.append("| ").append(String.join(" | ", row(key, byThreads))).append(" |\n"));
        return out.toString();
    }

    private String[] header() {
        String[] h = new String[2 + threadCounts.size()];
        h[0] = "op";
        h[1] = "data";
        for (int i = 0; i < threadCounts.size(); i++) {
            int t = threadCounts.get(i);
            h[2 + i] = "MB/s, " + t + (t == 1 ? " thread" : " threads");
        }
        return h;
    }

    private String[] row(String key, Map<Integer, Double> byThreads) {
        String[] cells = new String[2 + threadCounts.size()];
        String[] names = key.split("\t", 2);
        cells[0] = names[0];
        cells[1] = names[1];
        for (int i = 0; i < threadCounts.size(); i++) {
            Double v = byThreads.get(threadCounts.get(i));
            cells[2 + i] = v == null ? "-" : format(v);
        }
        return cells;
    }

    static String format(double mbPerSecond) {
        return String.format(Locale.ROOT, "%.1f", mbPerSecond);
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }
}
