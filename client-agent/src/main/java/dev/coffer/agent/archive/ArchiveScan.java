package dev.coffer.agent.archive;

import dev.coffer.chunker.ArchiveDamage;
import dev.coffer.chunker.ArchiveReader;
import dev.coffer.chunker.DigestTable;
import dev.coffer.chunker.FixedIndexReader;
import dev.coffer.chunker.FormatException;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
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
     * A chunk the archive should hold and does not (intact).
     *
     * @param offset the byte offset in the disk, or -1 when the whole disk is lost (its index is)
     * @param digest the chunk's digest, or null when the index itself is lost
     */
    public record Lost(String disk, long offset, String digest) {}

    /** The lost chunks: the first {@link #MAX_LISTED}, the total count, and their bytes. */
    public record LostReport(List<Lost> listed, long chunks, long bytes) {}

    private final ArchiveReader.Header header;
    private final DigestTable table;
    private final List<ArchiveDamage> damage;
    private final long records;
    private final long length;

    private ArchiveScan(ArchiveReader.Header header, DigestTable table, List<ArchiveDamage> damage, long records, long length) {
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
            return new ArchiveScan(h, t, s.damage(), s.records(), s.length());
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
     * The chunks of {@code manifest}'s disks that no intact record holds; a disk whose index is
     * lost counts as lost whole.
     */
    public LostReport lost(Manifest manifest) throws IOException {
        List<Lost> listed = new ArrayList<>();
        long[] count = {0, 0};
        for (ManifestDisk d : manifest.disks()) {
            Path idx = header.files().get(d.index().file());
            if (idx == null || !Files.exists(idx)) {
                add(listed, count, new Lost(d.name(), -1, null), d.size());
                continue;
            }
            try (FixedIndexReader r = FixedIndexReader.open(idx)) {
                r.forEach((i, digest) -> {
                    if (!digest.isZero() && table.get(digest) < 0) {
                        add(listed, count, new Lost(d.name(), i * r.chunkSize(), digest.hex()), r.chunkLength(i));
                    }
                });
            } catch (FormatException e) {
                add(listed, count, new Lost(d.name(), -1, null), d.size());
            }
        }
        return new LostReport(listed, count[0], count[1]);
    }

    private static void add(List<Lost> listed, long[] count, Lost l, long bytes) {
        if (listed.size() < MAX_LISTED) {
            listed.add(l);
        }
        count[0]++;
        count[1] += bytes;
    }

    @Override
    public void close() throws IOException {
        table.close();
    }
}
