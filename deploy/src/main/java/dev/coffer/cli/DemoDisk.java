package dev.coffer.cli;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * A demo VM disk for the quickstart: a sparse raw image laid out like a small installed system —
 * incompressible data (packages, media), text (configs, logs), a block repeated many times
 * (deduplicates), an allocated run of zeros, and large holes — deterministic from a seed.
 */
final class DemoDisk {

    static final long SIZE = 256L << 20;

    private DemoDisk() {}

    static void create(Path file, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(SIZE);
            byte[] random = new byte[1 << 20];
            for (int i = 0; i < 16; i++) { // 16 MiB of incompressible data at 8 MiB
                r.nextBytes(random);
                f.seek((8L << 20) + ((long) i << 20));
                f.write(random);
            }
            StringBuilder text = new StringBuilder();
            String[] words = {"kernel", "systemd", "backup", "disk", "network", "ok", "started", "service", "error", "the"};
            while (text.length() < (16 << 20)) { // 16 MiB of log-like text at 64 MiB
                text.append("Nov 23 10:").append(r.nextInt(60)).append(' ').append(words[r.nextInt(words.length)]).append(' ')
                        .append(words[r.nextInt(words.length)]).append(" pid=").append(r.nextInt(65536)).append('\n');
            }
            f.seek(64L << 20);
            f.write(text.toString().getBytes(StandardCharsets.US_ASCII), 0, 16 << 20);
            byte[] block = new byte[1 << 20];
            r.nextBytes(block);
            for (int i = 0; i < 8; i++) { // the same 1 MiB eight times at 128 MiB
                f.seek((128L << 20) + ((long) i << 20));
                f.write(block);
            }
            f.seek(192L << 20); // 4 MiB of allocated zeros
            f.write(new byte[4 << 20]);
        }
    }

    /** What a guest does between two backups: a few scattered writes. */
    static void change(Path file, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] b = new byte[64 << 10];
            for (long off : new long[] {9L << 20, 70L << 20, 200L << 20}) {
                r.nextBytes(b);
                f.seek(off);
                f.write(b);
            }
        }
    }
}
