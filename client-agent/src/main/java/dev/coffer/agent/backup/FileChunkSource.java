package dev.coffer.agent.backup;

import dev.coffer.agent.io.ChunkMap;
import dev.coffer.agent.io.FileSource;
import java.io.IOException;
import java.nio.file.Path;

/** A raw image file or block device as a {@link ChunkSource}: holes are skipped unread. */
public final class FileChunkSource implements ChunkSource {

    private final FileSource source;
    private final ChunkMap map;
    private final int chunkSize;

    private FileChunkSource(FileSource source, int chunkSize) {
        this.source = source;
        this.chunkSize = chunkSize;
        this.map = source.chunkMap(chunkSize);
    }

    public static FileChunkSource open(Path path, int chunkSize) throws IOException {
        return new FileChunkSource(FileSource.open(path), chunkSize);
    }

    @Override
    public long size() {
        return source.size();
    }

    @Override
    public boolean isZeroChunk(long index) throws IOException {
        return map.isHole(index);
    }

    @Override
    public int readChunk(long index, byte[] buf) throws IOException {
        return source.readChunk(index, chunkSize, buf);
    }

    @Override
    public void close() throws IOException {
        source.close();
    }
}
