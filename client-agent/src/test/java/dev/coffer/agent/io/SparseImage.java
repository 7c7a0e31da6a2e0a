package dev.coffer.agent.io;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/**
 * A sparse test image: {@link RandomAccessFile#setLength} makes it one hole, then a few writes at
 * chosen offsets allocate blocks there. {@link #bytes()} is the same image in memory, to compare with.
 */
final class SparseImage {

    private final byte[] bytes;

    private SparseImage(int size) {
        this.bytes = new byte[size];
    }

    static SparseImage ofSize(int size) {
        return new SparseImage(size);
    }

    /** Puts {@code length} bytes of a recognisable pattern at {@code offset}. */
    SparseImage data(int offset, int length) {
        for (int i = 0; i < length; i++) {
            bytes[offset + i] = (byte) (31 * (offset + i) + 7 | 1); // odd, so never zero
        }
        return this;
    }

    byte[] bytes() {
        return bytes;
    }

    /** Writes the image to {@code file}: only the non-zero runs are written, the rest stays hole. */
    Path writeTo(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes.length);
            int i = 0;
            while (i < bytes.length) {
                if (bytes[i] == 0) {
                    i++;
                    continue;
                }
                int start = i;
                while (i < bytes.length && bytes[i] != 0) {
                    i++;
                }
                raf.seek(start);
                raf.write(bytes, start, i - start);
            }
        }
        return file;
    }
}
