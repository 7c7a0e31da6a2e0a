package dev.coffer.agent.vm;

import dev.coffer.agent.backup.ChunkSource;
import dev.coffer.agent.nbd.NbdErrno;
import dev.coffer.agent.nbd.NbdException;
import java.io.IOException;

/**
 * A guest device's point-in-time view ({@code snapshot-access} over a {@code copy-before-write}
 * filter with {@code on-cbw-error: break-snapshot}) as a {@link ChunkSource}. When the filter could
 * not copy old data in time (scratch full, {@code cbw-timeout}) QEMU keeps the guest's write and
 * breaks the view: every later read and block status fails with EINVAL over NBD, also where the
 * guest never wrote (shared/nbd/PROTOCOL.md §5). This turns that bare EINVAL into the reason.
 */
final class BreakableView implements ChunkSource {

    private final ChunkSource view;
    private final String drive;

    BreakableView(ChunkSource view, String drive) {
        this.view = view;
        this.drive = drive;
    }

    private interface Read<T> {
        T read() throws IOException;
    }

    /** Runs one read of the view, turning the bare EINVAL of a broken view into the reason. */
    private <T> T explained(Read<T> r) throws IOException {
        try {
            return r.read();
        } catch (NbdException e) {
            if (e.errno().orElse(null) == NbdErrno.EINVAL) {
                throw new IOException("the frozen view of drive " + drive + " broke (scratch full, or a guest write waited longer than "
                        + FrozenDrive.CBW_TIMEOUT_S + " s for its old data to be copied?): QEMU kept the guest's writes and gave up the "
                        + "view, so this backup fails; give --scratch a filesystem with more room. " + e.getMessage(), e);
            }
            throw e;
        }
    }

    @Override
    public long size() throws IOException {
        return view.size();
    }

    @Override
    public boolean isZeroChunk(long index) throws IOException {
        return explained(() -> view.isZeroChunk(index));
    }

    @Override
    public int readChunk(long index, byte[] buf) throws IOException {
        return explained(() -> view.readChunk(index, buf));
    }

    @Override
    public boolean hasDirtyBitmap() {
        return view.hasDirtyBitmap();
    }

    @Override
    public boolean isClean(long index) throws IOException {
        return explained(() -> view.isClean(index));
    }

    @Override
    public void close() throws IOException {
        view.close();
    }
}
