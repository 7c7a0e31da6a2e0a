package dev.coffer.chunker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Reads a single-file archive front to back from a stream, checking its structure as it goes:
 * {@link #readHeader} (header frame, then the restore point's files, written into a directory),
 * {@link #nextRecord} for each chunk record, {@link #finish} for the trailer and the end frame.
 *
 * <p>Strict mode proves the archive whole in bounded memory: every frame's CRC and every blob's own
 * CRC, files complete and matching the manifest's sizes (and config files its checksums), and the
 * trailer equal to the records actually seen — compared through a running SHA-256 over the
 * (digest, offset) pairs on both sides, so no list of records is kept. Any fault throws a
 * {@link FormatException} naming the archive, the offset and what is wrong. Salvage mode
 * ({@link ArchiveFrameReader}) skips damaged frames instead and reports them in
 * {@link Summary#damage()}; what it returns is still only ever bytes whose CRCs hold.
 */
public final class ArchiveReader {

    /**
     * The archive's header.
     *
     * @param manifestBytes the manifest exactly as stored, or null when salvage lost the header frame
     * @param manifest the manifest parsed without a key (its signature is the consumer's to check), or null
     * @param files the complete files, by name, in {@code dir}
     * @param partial files of which salvage found only some parts, by name
     */
    public record Header(UUID uuid, Instant created, byte[] manifestBytes, Manifest manifest, Map<String, Path> files,
            Map<String, Partial> partial) {}

    /** A byte range of a file that no intact part covered. */
    public record Gap(long offset, long length) {}

    /**
     * A file salvage could only partly read: {@code path} holds all {@code size} bytes, those in
     * {@code gaps} zero because their parts were lost.
     */
    public record Partial(Path path, long size, List<Gap> gaps) {

        /** True when {@code [offset, offset + length)} touches a gap. */
        public boolean touchesGap(long offset, long length) {
            for (Gap g : gaps) {
                if (offset < g.offset() + g.length() && g.offset() < offset + length) {
                    return true;
                }
            }
            return false;
        }
    }

    /** One chunk record: the stored blob (checked against its own CRC) of chunk {@code digest}. */
    public record Record(long offset, Digest digest, int plainLength, byte[] blob) {}

    /** What {@link #finish} found. */
    public record Summary(long records, long length, List<ArchiveDamage> damage) {}

    private final ArchiveFrameReader frames;
    private final boolean salvage;
    private final MessageDigest recordHash = ChunkDigester.sha256();
    private ArchiveFrame pending;
    private long records;

    private ArchiveReader(InputStream in, String name, boolean salvage) {
        this.frames = new ArchiveFrameReader(in, name, salvage, null);
        this.salvage = salvage;
    }

    /** A reader of the archive {@code in}, named {@code name} in messages. */
    public static ArchiveReader open(InputStream in, String name, boolean salvage) {
        return new ArchiveReader(in, name, salvage);
    }

    /**
     * Reads the header frame and every file frame, writing the files into {@code dir}.
     *
     * @throws FormatException in strict mode when the header or a file is damaged, missing or does
     *     not match the manifest
     */
    public Header readHeader(Path dir) throws IOException {
        ArchiveFrame f = frames.next();
        if (f == null) {
            throw new FormatException.Truncated(frames.where(frames.offset()), "the archive is empty");
        }
        byte[] manifestBytes = null;
        Manifest manifest = null;
        Instant created = null;
        if (f.kind() == ArchiveFrame.Kind.HEADER) {
            byte[] p = f.payload();
            String where = frames.where(f.offset()) + " (header frame)";
            if (p.length < 16) {
                throw new FormatException.Truncated(where, "header payload of " + p.length + " bytes is shorter than 16");
            }
            int version = Bytes.getIntLE(p, 0);
            if (version != FileFormats.ARCHIVE_VERSION) {
                throw new FormatException.Malformed(where, "archive version " + version + " is not supported (this Coffer reads "
                        + FileFormats.ARCHIVE_VERSION + ")");
            }
            created = Instant.ofEpochSecond(Bytes.getLongLE(p, 8));
            manifestBytes = java.util.Arrays.copyOfRange(p, 16, p.length);
            manifest = Manifest.parse(manifestBytes, where + " manifest", null);
            f = frames.next();
        } else if (!salvage) {
            throw new FormatException.Malformed(frames.where(f.offset()), "the archive starts with a " + f.kind().label()
                    + " frame, not its header");
        }
        Files.createDirectories(dir);
        ArchiveFileParts parts = new ArchiveFileParts(dir, salvage);
        for (; f != null && f.kind() == ArchiveFrame.Kind.FILE; f = frames.next()) {
            if (manifest == null && !salvage) {
                throw new FormatException.Malformed(frames.where(f.offset()), "file frame before the header");
            }
            parts.add(f.payload(), frames.where(f.offset()) + " (file frame)");
        }
        pending = f;
        Map<String, Partial> partial = parts.partial(frames.where(frames.offset()));
        Map<String, Path> complete = parts.complete();
        if (manifest != null && !salvage) {
            checkAgainstManifest(manifest, complete);
        }
        return new Header(frames.uuid(), created, manifestBytes, manifest, complete, partial);
    }

    private void checkAgainstManifest(Manifest m, Map<String, Path> complete) throws IOException {
        String where = frames.where(frames.offset());
        Map<String, Long> expected = new LinkedHashMap<>();
        m.files().forEach(f -> expected.put(f.name(), f.size()));
        m.disks().forEach(d -> expected.put(d.index().file(), d.index().size()));
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            Path p = complete.get(e.getKey());
            if (p == null) {
                throw new FormatException.Malformed(where, "the header lacks file " + e.getKey() + " that the manifest lists");
            }
            if (Files.size(p) != e.getValue()) {
                throw new FormatException.SizeMismatch(where, "file " + e.getKey() + " is " + Files.size(p)
                        + " bytes, the manifest says " + e.getValue());
            }
        }
        for (String name : complete.keySet()) {
            if (!expected.containsKey(name)) {
                throw new FormatException.Malformed(where, "file " + name + " is not in the manifest");
            }
        }
        for (ManifestFile f : m.files()) {
            if (!Digest.of(ChunkDigester.sha256().digest(Files.readAllBytes(complete.get(f.name())))).equals(f.checksum())) {
                throw new FormatException.Malformed(where, "config file " + f.name() + " does not match the manifest's checksum");
            }
        }
    }

    /**
     * The next chunk record, or null after the last one.
     *
     * @throws FormatException in strict mode when a record is damaged or a frame is out of place
     */
    public Record nextRecord() throws IOException {
        while (true) {
            ArchiveFrame f = pending != null ? pending : frames.next();
            pending = null;
            if (f == null || f.kind() == ArchiveFrame.Kind.TRAILER || f.kind() == ArchiveFrame.Kind.END) {
                pending = f;
                return null;
            }
            String where = frames.where(f.offset());
            if (f.kind() != ArchiveFrame.Kind.CHUNK) {
                if (salvage) {
                    continue;
                }
                throw new FormatException.Malformed(where, "a " + f.kind().label() + " frame among the chunk records");
            }
            Record r;
            try {
                r = record(f, where);
            } catch (FormatException e) {
                if (salvage) {
                    continue;
                }
                throw e;
            }
            byte[] entry = new byte[Digest.LENGTH + 8];
            r.digest().copyTo(entry, 0);
            Bytes.putLongLE(entry, Digest.LENGTH, r.offset());
            recordHash.update(entry);
            records++;
            return r;
        }
    }

    /** Decodes and checks the payload of a chunk frame: digest, plain length, blob with a valid CRC. */
    static Record record(ArchiveFrame f, String where) throws FormatException {
        byte[] p = f.payload();
        if (p.length < Digest.LENGTH + 4) {
            throw new FormatException.Truncated(where, "chunk record payload of " + p.length + " bytes is too short");
        }
        Digest d = Digest.of(p, 0);
        int plain = Bytes.getIntLE(p, Digest.LENGTH);
        if (d.isZero()) {
            throw new FormatException.Malformed(where, "chunk record of the zero digest, which is never stored");
        }
        if (plain <= 0 || plain > FileFormats.MAX_CHUNK_SIZE) {
            throw new FormatException.Malformed(where, "chunk " + d.shortHex() + " has plain length " + plain);
        }
        byte[] blob = java.util.Arrays.copyOfRange(p, Digest.LENGTH + 4, p.length);
        ChunkCodec.check(blob, where + " (chunk " + d.hex() + ")");
        return new Record(f.offset(), d, plain, blob);
    }

    /**
     * Reads the trailer and end frames. In strict mode it proves the trailer lists exactly the
     * records read, the end frame's counts and offsets hold, and nothing follows it.
     */
    public Summary finish() throws IOException {
        while (nextRecord() != null) {
            // records the caller did not read are still checked
        }
        MessageDigest trailerHash = ChunkDigester.sha256();
        long entries = 0;
        long trailerOffset = -1;
        ArchiveFrame f = pending != null ? pending : frames.next();
        pending = null;
        for (; f != null && f.kind() == ArchiveFrame.Kind.TRAILER; f = frames.next()) {
            if (trailerOffset < 0) {
                trailerOffset = f.offset();
            }
            if (f.payload().length % (Digest.LENGTH + 8) != 0) {
                fail(f, "trailer payload of " + f.payload().length + " bytes is not a whole number of 40-byte entries");
            }
            trailerHash.update(f.payload());
            entries += f.payload().length / (Digest.LENGTH + 8);
        }
        if (f == null || f.kind() != ArchiveFrame.Kind.END) {
            if (!salvage) {
                throw new FormatException.Truncated(frames.where(f == null ? frames.offset() : f.offset()),
                        f == null ? "the archive ends without its end frame" : "a " + f.kind().label() + " frame where the end frame belongs");
            }
            return new Summary(records, frames.offset(), frames.damage());
        }
        byte[] p = f.payload();
        if (p.length != 24) {
            fail(f, "end frame payload is " + p.length + " bytes, not 24");
        }
        long count = Bytes.getLongLE(p, 0);
        long tOff = Bytes.getLongLE(p, 8);
        long length = Bytes.getLongLE(p, 16);
        if (!salvage) {
            if (count != records || entries != records) {
                fail(f, "end frame counts " + count + " records and the trailer " + entries + ", but the archive holds " + records);
            }
            if (!java.security.MessageDigest.isEqual(trailerHash.digest(), recordHash.digest())) {
                fail(f, "the trailer does not list the records' digests and offsets");
            }
            if (tOff != trailerOffset || length != f.offset() + f.length()) {
                fail(f, "end frame says trailer at " + tOff + " and length " + length + ", but they are " + trailerOffset
                        + " and " + (f.offset() + f.length()));
            }
            ArchiveFrame extra = frames.next();
            if (extra != null) {
                throw new FormatException.SizeMismatch(frames.where(extra.offset()), "data after the end frame");
            }
        }
        return new Summary(records, f.offset() + f.length(), frames.damage());
    }

    private void fail(ArchiveFrame f, String what) throws FormatException {
        if (!salvage) {
            throw new FormatException.Malformed(frames.where(f.offset()) + " (" + f.kind().label() + " frame)", what);
        }
    }
}
