package dev.coffer.agent.archive;

import dev.coffer.chunker.ArchiveReader;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FileFormats;
import dev.coffer.chunker.FixedIndex;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FormatException;
import dev.coffer.chunker.ManifestDisk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * The digests of one disk of an archive's restore point, position by position: from its whole
 * fixed index (checked against the manifest), or — when salvage lost parts of the index — from
 * what is left, where a position whose digest was in a lost part is unknown ({@code null}).
 *
 * <p>A partly read index cannot be checked against its checksum, but every part that was kept
 * passed its frame's CRC, and every chunk restored through it is still checked against its
 * digest; the disk's size and chunk size come from the manifest, not from the (maybe lost)
 * index header.
 */
final class IndexView implements AutoCloseable {

    private final FixedIndexReader whole;
    private final FileChannel partialFile;
    private final ArchiveReader.Partial partial;
    private final long imageSize;
    private final int chunkSize;

    private IndexView(FixedIndexReader whole, FileChannel partialFile, ArchiveReader.Partial partial, long imageSize, int chunkSize) {
        this.whole = whole;
        this.partialFile = partialFile;
        this.partial = partial;
        this.imageSize = imageSize;
        this.chunkSize = chunkSize;
    }

    /**
     * The index of {@code disk} in {@code header}. Without {@code salvage} it must be whole and
     * match the manifest.
     *
     * @throws IOException when the index is missing or damaged and {@code salvage} is off
     */
    static IndexView open(ArchiveReader.Header header, ManifestDisk disk, int chunkSize, boolean salvage, String archive)
            throws IOException {
        var path = header.files().get(disk.index().file());
        if (path != null) {
            FixedIndexReader r;
            try {
                r = FixedIndexReader.open(path);
            } catch (FormatException e) {
                if (!salvage) {
                    throw e;
                }
                return unknown(disk, chunkSize);
            }
            if (!r.checksum().equals(disk.index().checksum()) || r.imageSize() != disk.size() || r.chunkSize() != chunkSize) {
                r.close();
                if (!salvage) {
                    throw new FormatException.IndexChecksumMismatch("index " + disk.index().file() + " in archive " + archive,
                            "does not match the manifest's checksum, disk size or chunk size");
                }
                return unknown(disk, chunkSize);
            }
            return new IndexView(r, null, null, disk.size(), chunkSize);
        }
        ArchiveReader.Partial p = header.partial().get(disk.index().file());
        if (!salvage) {
            throw new IOException("the index of disk " + disk.name() + " in archive " + archive + " is damaged: the disk cannot be restored");
        }
        if (p == null || p.size() != disk.index().size()) {
            return unknown(disk, chunkSize);
        }
        return new IndexView(null, FileChannel.open(p.path(), StandardOpenOption.READ), p, disk.size(), chunkSize);
    }

    private static IndexView unknown(ManifestDisk disk, int chunkSize) {
        return new IndexView(null, null, null, disk.size(), chunkSize);
    }

    long chunkCount() {
        return FixedIndex.chunkCount(imageSize, chunkSize);
    }

    int chunkSize() {
        return chunkSize;
    }

    int chunkLength(long i) {
        return FixedIndex.chunkLength(imageSize, chunkSize, i);
    }

    /** The digest of chunk {@code i}, or null when salvage lost the part of the index that held it. */
    Digest digest(long i) throws IOException {
        if (whole != null) {
            return whole.digest(i);
        }
        long at = FileFormats.INDEX_HEADER_LENGTH + i * Digest.LENGTH;
        if (partialFile == null || partial.touchesGap(at, Digest.LENGTH)) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(Digest.LENGTH);
        while (b.hasRemaining()) {
            if (partialFile.read(b, at + b.position()) < 0) {
                return null;
            }
        }
        return Digest.of(b.array());
    }

    @Override
    public void close() throws IOException {
        if (whole != null) {
            whole.close();
        }
        if (partialFile != null) {
            partialFile.close();
        }
    }
}
