package dev.coffer.chunker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A map from digest to a long (a record offset, or just "seen") kept in a temp file, so that
 * archive export ("each digest once") and archive restore (digest → record offset) run in bounded
 * memory whatever the disk size.
 *
 * <p>Why on disk: an in-memory {@code HashSet<Digest>} costs ~80 B per chunk, 320 MB for a 16 TiB
 * disk of 4 MiB chunks and 20 GB at 64 KiB chunks, more than a client's fixed heap. This table is
 * open addressing with linear probing over 40-byte slots ({@code digest | value}) in a sparse
 * file, addressed by the digest's first 8 bytes (digests are uniformly distributed, plain or
 * keyed); an all-zero slot is empty, which is safe because the zero digest is never stored. It
 * doubles (rewriting into a new file) when half full, so a low size hint only costs a rehash. Each
 * lookup is one or two 40-byte positional reads that the page cache serves; next to a chunk's
 * transfer that is noise. The file is deleted on {@link #close}. Not thread-safe.
 */
public final class DigestTable implements AutoCloseable {

    private static final int SLOT = Digest.LENGTH + 8;
    private static final long MIN_CAPACITY = 1024;

    private final Path dir;
    private Path file;
    private FileChannel channel;
    private long capacity;
    private long size;
    private final ByteBuffer slot = ByteBuffer.allocate(SLOT);

    private DigestTable(Path dir, long capacity) throws IOException {
        this.dir = dir;
        allocate(capacity);
    }

    /** A table in a temp file in {@code dir}, sized for about {@code expected} entries. */
    public static DigestTable create(Path dir, long expected) throws IOException {
        long cap = MIN_CAPACITY;
        while (cap < 2 * Math.max(1, expected)) {
            cap <<= 1;
        }
        return new DigestTable(dir, cap);
    }

    private void allocate(long cap) throws IOException {
        file = Files.createTempFile(dir, "digest-table-", ".tmp");
        channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        capacity = cap;
        size = 0;
    }

    /** Entries held. */
    public long size() {
        return size;
    }

    /**
     * Adds {@code digest → value} unless the digest is present.
     *
     * @return true when it was added, false when the digest was already there (its value unchanged)
     * @throws IllegalArgumentException for the zero digest
     */
    public boolean putIfAbsent(Digest digest, long value) throws IOException {
        if (digest.isZero()) {
            throw new IllegalArgumentException("the zero digest is never stored");
        }
        if (2 * (size + 1) > capacity) {
            grow();
        }
        byte[] d = digest.toBytes();
        long i = home(d);
        while (true) {
            readSlot(i);
            if (isEmpty()) {
                slot.clear();
                slot.put(d).putLong(value).flip();
                writeSlot(i);
                size++;
                return true;
            }
            if (matches(d)) {
                return false;
            }
            i = (i + 1) & (capacity - 1);
        }
    }

    /** The value of {@code digest}, or -1 when it is absent. */
    public long get(Digest digest) throws IOException {
        if (digest.isZero()) {
            return -1;
        }
        byte[] d = digest.toBytes();
        for (long i = home(d); ; i = (i + 1) & (capacity - 1)) {
            readSlot(i);
            if (isEmpty()) {
                return -1;
            }
            if (matches(d)) {
                return slot.getLong(Digest.LENGTH);
            }
        }
    }

    private void grow() throws IOException {
        FileChannel old = channel;
        Path oldFile = file;
        long oldCapacity = capacity;
        allocate(capacity * 2);
        try (old) {
            ByteBuffer b = ByteBuffer.allocate(SLOT * 1024);
            for (long base = 0; base < oldCapacity; base += 1024) {
                b.clear();
                while (b.hasRemaining() && old.read(b, base * SLOT + b.position()) >= 0) {
                    // a sparse file reads zeros to its set length; past the end there are only empty slots
                }
                for (int j = 0; j < b.position(); j += SLOT) {
                    byte[] d = new byte[Digest.LENGTH];
                    b.get(j, d);
                    if (!Digest.of(d).isZero()) {
                        putIfAbsent(Digest.of(d), b.getLong(j + Digest.LENGTH));
                    }
                }
            }
        } finally {
            Files.deleteIfExists(oldFile);
        }
    }

    private long home(byte[] d) {
        return Bytes.getLongLE(d, 0) & (capacity - 1);
    }

    private void readSlot(long i) throws IOException {
        slot.clear();
        while (slot.hasRemaining()) {
            if (channel.read(slot, i * SLOT + slot.position()) < 0) {
                break; // past the end of the sparse file: an empty slot
            }
        }
        while (slot.hasRemaining()) {
            slot.put((byte) 0);
        }
        slot.flip();
    }

    private void writeSlot(long i) throws IOException {
        while (slot.hasRemaining()) {
            channel.write(slot, i * SLOT + slot.position());
        }
    }

    private boolean isEmpty() {
        for (int j = 0; j < Digest.LENGTH; j++) {
            if (slot.get(j) != 0) {
                return false;
            }
        }
        return true;
    }

    private boolean matches(byte[] d) {
        for (int j = 0; j < Digest.LENGTH; j++) {
            if (slot.get(j) != d[j]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
