package dev.coffer.store.datastore;

import dev.coffer.chunker.AtomicFiles;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.LinuxIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Chunk blobs as files: {@code chunks/<first 4 hex>/<64 hex>}, as PBS lays them out.
 *
 * <p>65,536 prefix directories keep any one directory small; they are created on first use, not
 * up front (PBS pre-creates them, which costs 256 MiB of directory blocks on ext4 before the first
 * backup). A blob is written to a temp file in its prefix directory and renamed over the final name,
 * so readers never see part of a blob; at {@link SyncLevel#FILE} the file and the directory are
 * fsynced around the rename, at {@link SyncLevel#FILESYSTEM} {@link #sync} flushes the filesystem
 * once before a publish. Quarantine renames to {@code <hex>.bad}.
 */
public final class FileChunkStore implements ChunkStore {

    static final String BAD_SUFFIX = ".bad";

    private final Path root;
    private final SyncLevel syncLevel;

    /** A store over {@code root} (the datastore's {@code chunks} directory), created if missing. */
    public FileChunkStore(Path root, SyncLevel syncLevel) throws IOException {
        this.root = Files.createDirectories(root);
        this.syncLevel = syncLevel;
    }

    /** The file a digest's blob lives in. */
    public Path path(Digest digest) {
        String hex = digest.hex();
        return root.resolve(hex.substring(0, 4)).resolve(hex);
    }

    @Override
    public void put(Digest digest, byte[] blob) throws IOException {
        Path target = path(digest);
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(blob);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                if (syncLevel == SyncLevel.FILE) {
                    ch.force(false);
                }
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (syncLevel == SyncLevel.FILE) {
                AtomicFiles.fsyncDirectory(dir);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public byte[] get(Digest digest) throws IOException {
        try {
            return Files.readAllBytes(path(digest));
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    @Override
    public long size(Digest digest) throws IOException {
        try {
            return Files.size(path(digest));
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    @Override
    public boolean delete(Digest digest) throws IOException {
        return Files.deleteIfExists(path(digest));
    }

    @Override
    public boolean quarantine(Digest digest) throws IOException {
        Path p = path(digest);
        try {
            Files.move(p, p.resolveSibling(p.getFileName() + BAD_SUFFIX), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    @Override
    public void forEach(Consumer<Digest> visitor) throws IOException {
        try (DirectoryStream<Path> prefixes = Files.newDirectoryStream(root)) {
            for (Path prefix : prefixes) {
                String p = prefix.getFileName().toString();
                if (p.length() != 4 || !Files.isDirectory(prefix)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(prefix)) {
                    for (Path f : files) {
                        String name = f.getFileName().toString();
                        if (Digest.isValidHex(name) && name.startsWith(p)) {
                            visitor.accept(Digest.parse(name));
                        }
                    }
                }
            }
        }
    }

    @Override
    public void sync() throws IOException {
        if (syncLevel == SyncLevel.FILESYSTEM) {
            LinuxIo.syncfs(root);
        }
    }
}
