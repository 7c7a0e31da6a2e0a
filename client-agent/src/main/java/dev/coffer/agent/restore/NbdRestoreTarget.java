package dev.coffer.agent.restore;

import dev.coffer.agent.nbd.BlockStatus;
import dev.coffer.agent.nbd.Extent;
import dev.coffer.agent.nbd.NbdClient;
import dev.coffer.agent.nbd.NbdClientOptions;
import dev.coffer.agent.nbd.NbdUri;
import java.io.IOException;
import java.util.List;

/**
 * An NBD export as a {@link RestoreTarget}: the storage a VM will use (a new qcow2 or LV exported
 * by qemu-nbd or qemu-storage-daemon), written straight over NBD.
 *
 * <p>Zero chunks cost nothing where the export already reads zeros there ({@code base:allocation}
 * ZERO, as on a freshly created qcow2); elsewhere they become WRITE_ZEROES, or written zeros when
 * the export lacks it. Never TRIM. The export must be writable and at least the disk's size.
 * Status is fetched in windows as the restore advances and cached: zero ranges are never written
 * by the restore, so their status cannot go stale under it.
 */
public final class NbdRestoreTarget implements RestoreTarget {

    private static final long WINDOW = 1L << 30;
    private static final byte[] ZEROS = new byte[1 << 20];

    private final NbdClient client;
    private long windowStart = -1;
    private List<Extent> window = List.of();

    private NbdRestoreTarget(NbdClient client) {
        this.client = client;
    }

    /**
     * Connects to {@code uri} for a disk of {@code diskSize} bytes.
     *
     * @throws IOException when the export is read-only or smaller than the disk
     */
    public static NbdRestoreTarget open(NbdUri uri, long diskSize) throws IOException {
        NbdClient c = NbdClient.connect(uri, NbdClientOptions.defaults());
        try {
            if (c.info().readOnly()) {
                throw new IOException("restore target " + uri + " is read-only");
            }
            if (c.info().size() < diskSize) {
                throw new IOException("restore target " + uri + " is " + c.info().size() + " bytes, smaller than the disk's "
                        + diskSize + " bytes");
            }
            return new NbdRestoreTarget(c);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    @Override
    public long size() {
        return client.info().size();
    }

    @Override
    public void write(long offset, byte[] buf, int off, int len) throws IOException {
        client.write(offset, buf, off, len);
    }

    @Override
    public void writeZeroes(long offset, long len) throws IOException {
        if (readsZeroes(offset, len)) {
            return;
        }
        if (client.info().canWriteZeroes()) {
            client.writeZeroes(offset, len, false);
            return;
        }
        for (long pos = offset; pos < offset + len; pos += ZEROS.length) {
            int n = (int) Math.min(ZEROS.length, offset + len - pos);
            client.write(pos, ZEROS, 0, n);
        }
    }

    /** True when base:allocation reports the whole range ZERO. Called from one thread (the restore's). */
    private boolean readsZeroes(long offset, long len) throws IOException {
        long end = offset + len;
        if (windowStart < 0 || offset < windowStart || end > windowStart + WINDOW) {
            windowStart = offset;
            long wl = Math.min(WINDOW, size() - offset);
            window = client.blockStatus(offset, wl).of(BlockStatus.BASE_ALLOCATION);
        }
        long covered = offset;
        for (Extent e : window) {
            long eEnd = e.offset() + e.length();
            if (eEnd <= covered) {
                continue;
            }
            if (e.offset() > covered || (e.flags() & BlockStatus.ZERO) == 0) {
                return false;
            }
            covered = eEnd;
            if (covered >= end) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void flush() throws IOException {
        if (client.info().canFlush()) {
            client.flush();
        }
    }

    @Override
    public void read(long offset, byte[] buf, int len) throws IOException {
        client.read(offset, buf, 0, len);
    }

    @Override
    public String describe() {
        return client.uri().toString();
    }

    @Override
    public void close() {
        client.close();
    }
}
