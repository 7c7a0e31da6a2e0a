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

    private IOException explain(NbdException e) {
        if (e.errno().orElse(null) == NbdErrno.EINVAL) {
            return new IOException("the frozen view of drive " + drive + " broke (scratch full, or a guest write waited longer than "
                    + FrozenDrive.CBW_TIMEOUT_S + " s for its old data to be copied?): QEMU kept the guest's writes and gave up the "
                    + "view, so this backup fails; give --scratch a filesystem with more room. " + e.getMessage(), e);
        }
        return e;
    }

    @Override
    public long size() throws IOException {
        return view.size();
    }

    @Override
    public boolean isZeroChunk(long index) throws IOException {
        try {
            return view.isZeroChunk(index);
        } catch (NbdException e) {
            throw explain(e);
        }
    }

    @Override
    public int readChunk(long index, byte[] buf) throws IOException {
        try {
            return view.readChunk(index, buf);
        } catch (NbdException e) {
            throw explain(e);
        }
    }

    @Override
    public boolean hasDirtyBitmap() {
        return view.hasDirtyBitmap();
    }

    @Override
    public boolean isClean(long index) throws IOException {
        try {
            return view.isClean(index);
        } catch (NbdException e) {
            throw explain(e);
        }
    }

    @Override
    public void close() throws IOException {
        view.close();
    }
}
