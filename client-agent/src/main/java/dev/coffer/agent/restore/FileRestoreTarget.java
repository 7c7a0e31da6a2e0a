package dev.coffer.agent.restore;

import dev.coffer.agent.io.FileTarget;
import java.io.IOException;
import java.nio.file.Path;

/** A regular file (written sparse) or block device as a {@link RestoreTarget}. */
public final class FileRestoreTarget implements RestoreTarget {

    private final FileTarget target;

    private FileRestoreTarget(FileTarget target) {
        this.target = target;
    }

    /** Opens {@code path} for a disk of {@code diskSize} bytes; see {@link FileTarget#open}. */
    public static FileRestoreTarget open(Path path, long diskSize, boolean overwrite) throws IOException {
        return new FileRestoreTarget(FileTarget.open(path, diskSize, overwrite));
    }

    @Override
    public long size() {
        return target.size();
    }

    @Override
    public void write(long offset, byte[] buf, int off, int len) throws IOException {
        target.write(offset, buf, off, len);
    }

    @Override
    public void writeZeroes(long offset, long len) throws IOException {
        target.writeZeroes(offset, len);
    }

    @Override
    public void flush() throws IOException {
        target.flush();
    }

    @Override
    public void read(long offset, byte[] buf, int len) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(target.path(), java.nio.file.StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(buf, 0, len);
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) {
                    throw new java.io.EOFException(target.path() + " ends before offset " + (offset + b.position()));
                }
            }
        }
    }

    @Override
    public String describe() {
        return target.path().toString();
    }

    @Override
    public void close() throws IOException {
        target.close();
    }
}
