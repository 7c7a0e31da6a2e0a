package dev.coffer.agent.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The kinds of chunk content a benchmark runs on, each deterministic from a seed.
 *
 * <p>Throughput of zstd (and of the zero rule in digests) depends on the data, so one number per op
 * would mislead: {@link #RANDOM} is incompressible (encrypted or already compressed guest data),
 * {@link #TEXT} is log-like text that zstd level 1 shrinks several times, {@link #ZEROS} is unused
 * disk space, and {@link #MIXED} is half random and half text per chunk, closer to a real VM disk.
 */
public enum DataKind {
    RANDOM,
    TEXT,
    ZEROS,
    MIXED;

    /** The lowercase name used on the command line and in JSON. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The kind named {@code label}, as {@link #label()} prints it.
     *
     * @throws IllegalArgumentException naming the known kinds when {@code label} is not one
     */
    public static DataKind fromLabel(String label) {
        for (DataKind k : values()) {
            if (k.label().equals(label)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown data kind '" + label + "' (known: "
                + String.join(", ", Arrays.stream(values()).map(DataKind::label).toList()) + ")");
    }

    /** A fresh chunk of {@code length} bytes of this kind; the same seed gives the same bytes. */
    public byte[] chunk(int length, long seed) {
        byte[] buf = new byte[length];
        switch (this) {
            case RANDOM -> fillRandom(buf, 0, length, seed);
            case TEXT -> fillText(buf, 0, length, seed);
            case ZEROS -> { }
            case MIXED -> {
                int half = length / 2;
                fillRandom(buf, 0, half, seed);
                fillText(buf, half, length - half, seed + 1);
            }
        }
        return buf;
    }

    private static void fillRandom(byte[] buf, int off, int len, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] part = new byte[len];
        random.nextBytes(part);
        System.arraycopy(part, 0, buf, off, len);
    }

    /**
     * Log-like lines: a counter, a level and words drawn from a seeded vocabulary with a skewed
     * distribution, so the text repeats the way real logs and configuration files do.
     */
    private static void fillText(byte[] buf, int off, int len, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        String[] words = vocabulary(random, 512);
        String[] levels = {"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"};
        StringBuilder line = new StringBuilder(160);
        int pos = off;
        int end = off + len;
        long counter = 1_700_000_000L;
        while (pos < end) {
            line.setLength(0);
            counter += random.nextInt(5);
            line.append(counter).append(' ').append(levels[random.nextInt(levels.length)]).append(' ');
            int n = 4 + random.nextInt(12);
            for (int i = 0; i < n; i++) {
                // squaring a uniform pick favours the first words, like a Zipf-ish word frequency
                double u = random.nextDouble();
                line.append(words[(int) (u * u * words.length)]).append(i + 1 < n ? ' ' : '\n');
            }
            for (int i = 0; i < line.length() && pos < end; i++) {
                buf[pos++] = (byte) line.charAt(i);
            }
        }
    }

    private static String[] vocabulary(SplittableRandom random, int size) {
        String[] words = new String[size];
        for (int i = 0; i < size; i++) {
            char[] w = new char[2 + random.nextInt(9)];
            for (int j = 0; j < w.length; j++) {
                w[j] = (char) ('a' + random.nextInt(26));
            }
            words[i] = new String(w);
        }
        return words;
    }
}
