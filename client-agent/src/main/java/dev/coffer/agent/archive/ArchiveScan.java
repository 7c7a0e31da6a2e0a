package dev.coffer.agent.archive;

import dev.coffer.chunker.ArchiveDamage;
import dev.coffer.chunker.ArchiveReader;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.DigestTable;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a whole archive front to back — strictly, or salvaging past damage — and remembers where
 * each intact chunk record is ({@link DigestTable}: digest → offset), then says which chunks the
 * restore point's indexes reference that no intact record holds, by disk and offset. This is
 * {@code coffer archive check} and the first pass of {@code restore --from-archive --salvage}.
 */
public final class ArchiveScan implements AutoCloseable {

    /** At most this many lost chunks are listed one by one; the rest are only counted. */
    public static final int MAX_LISTED = 1000;

    /**
     * Disk bytes an archive should hold and does not (intact): one chunk whose record is lost,
     * or a run of chunks whose digests were in a lost part of the index.
     *
     * @param offset the byte offset in the disk
     * @param length how many bytes from there
     * @param digest the chunk's digest, or null when the part of the index naming it is lost
     */
    public record Lost(String disk, long offset, long length, String digest) {}

    /** The lost chunks: the first {@link #MAX_LISTED}, the total count, and their bytes. */
    public record LostReport(List<Lost> listed, long chunks, long bytes) {}

    private final ArchiveReader.Header header;
    private final DigestTable table;
    private final List<ArchiveDamage> damage;
    private final long records;
    private final long length;
    private final boolean salvage;
    private final String name;

    private ArchiveScan(ArchiveReader.Header header, DigestTable table, List<ArchiveDamage> damage, long records, long length,
            boolean salvage, String name) {
        this.salvage = salvage;
        this.name = name;
        this.header = header;
        this.table = table;
        this.damage = damage;
        this.records = records;
        this.length = length;
    }

    /** Scans the archive {@code in}; the header's files go to {@code work}, as does the table. */
    public static ArchiveScan run(InputStream in, String name, boolean salvage, Path work) throws IOException {
        ArchiveReader r = ArchiveReader.open(in, name, salvage);
        ArchiveReader.Header h = r.readHeader(work);
        DigestTable t = DigestTable.create(work, 1024);
        try {
            for (ArchiveReader.Record rec; (rec = r.nextRecord()) != null; ) {
                t.putIfAbsent(rec.digest(), rec.offset());
            }
            ArchiveReader.Summary s = r.finish();
            return new ArchiveScan(h, t, s.damage(), s.records(), s.length(), salvage, name);
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
    }

    public ArchiveReader.Header header() {
        return header;
    }

    /** Digest → offset of every intact record. */
    public DigestTable table() {
        return table;
    }

    public List<ArchiveDamage> damage() {
        return damage;
    }

    public long records() {
        return records;
    }

    public long length() {
        return length;
    }

    /**
     * The chunks of {@code manifest}'s disks that no intact record holds, and the runs of chunks
     * whose digests were in lost parts of an index (counted as chunks: their contents are unknown).
     */
    public LostReport lost(Manifest manifest) throws IOException {
        List<Lost> listed = new ArrayList<>();
        long[] count = {0, 0};
        for (ManifestDisk d : manifest.disks()) {
            try (IndexView index = IndexView.open(header, d, manifest.chunkSize(), salvage, name)) {
                long runStart = -1;
                long runChunks = 0;
                for (long i = 0; i < index.chunkCount(); i++) {
                    Digest digest = index.digest(i);
                    if (digest == null) {
                        if (runStart < 0) {
                            runStart = i;
                        }
                        runChunks++;
                        continue;
                    }
                    if (runStart >= 0) {
                        addRun(listed, count, d.name(), index, runStart, runChunks);
                        runStart = -1;
                        runChunks = 0;
                    }
                    if (!digest.isZero() && table.get(digest) < 0) {
                        add(listed, count, new Lost(d.name(), i * index.chunkSize(), index.chunkLength(i), digest.hex()), 1);
                    }
                }
                if (runStart >= 0) {
                    addRun(listed, count, d.name(), index, runStart, runChunks);
                }
            }
        }
        return new LostReport(listed, count[0], count[1]);
    }

    private static void addRun(List<Lost> listed, long[] count, String disk, IndexView index, long first, long chunks) {
        long offset = first * index.chunkSize();
        long end = first + chunks == index.chunkCount() ? (first + chunks - 1) * index.chunkSize() + index.chunkLength(first + chunks - 1)
                : (first + chunks) * index.chunkSize();
        add(listed, count, new Lost(disk, offset, end - offset, null), chunks);
    }

    private static void add(List<Lost> listed, long[] count, Lost l, long chunks) {
        if (listed.size() < MAX_LISTED) {
            listed.add(l);
        }
        count[0] += chunks;
        count[1] += l.length();
    }

    @Override
    public void close() throws IOException {
        table.close();
    }
}
