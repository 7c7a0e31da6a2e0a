package dev.coffer.e2e;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** Deterministic sparse disk images for the end-to-end tests. */
final class Images {

    private Images() {}

    /** A sparse image of {@code size} bytes with random data written at each offset in {@code extents} (pairs of offset, length). */
    static Path sparse(Path file, long size, long seed, long... extents) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
            for (int i = 0; i < extents.length; i += 2) {
                byte[] b = new byte[(int) extents[i + 1]];
                r.nextBytes(b);
                f.seek(extents[i]);
                f.write(b);
            }
        }
        return file;
    }

    /** A fully allocated image of {@code size} bytes of random (incompressible) data, written 1 MiB at a time. */
    static Path random(Path file, long size, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] b = new byte[1 << 20];
        try (var out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= b.length) {
                r.nextBytes(b);
                out.write(b, 0, (int) Math.min(b.length, left));
            }
        }
        return file;
    }

    /** Overwrites {@code len} bytes at {@code offset} with new random data. */
    static void scribble(Path file, long offset, int len, long seed) throws IOException {
        byte[] b = new byte[len];
        new SplittableRandom(seed).nextBytes(b);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.write(b);
        }
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
