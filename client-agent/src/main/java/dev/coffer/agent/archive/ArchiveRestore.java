package dev.coffer.agent.archive;

import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.agent.restore.RestoreTarget;
import dev.coffer.chunker.ArchiveFile;
import dev.coffer.chunker.ArchiveReader;
import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.ConfigBlob;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.DigestTable;
import dev.coffer.chunker.FormatException;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.ManifestFile;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Restores disks and config files of the restore point in an archive file, without a store.
 *
 * <p>Chunk records come in any order, and a disk is written position by position from its index,
 * so restore needs digest → record offset. It therefore needs a seekable file (not a pipe: import
 * a piped archive, or save it first): the header is read from the front, the trailer is loaded
 * from the end into a {@link DigestTable}, and each chunk is read at its offset, decoded and
 * verified against its digest (keyed under the key for encrypted archives, whose manifest
 * signature is checked first) before it is written. Memory stays one chunk whatever the disk.
 *
 * <p>With {@code salvage} the archive is instead scanned front to back past any damage
 * ({@link ArchiveScan}); a chunk without an intact record, or whose record fails to decode, is
 * written as zeros and reported with its disk and offset; so are the chunks named by a lost part of
 * the disk's index ({@link IndexView}). The manifest must be intact even then: without it nothing
 * says what belongs where, nor can an encrypted restore point's signature be checked.
 */
public final class ArchiveRestore implements AutoCloseable {

    private final Path path;
    private final Manifest manifest;
    private final ArchiveReader.Header header;
    private final ArchiveFile file;
    private final DigestTable table;
    private final ArchiveScan scan;
    private final boolean salvage;
    private final CryptConfig crypt;
    private final Path work;

    private ArchiveRestore(Path path, Manifest manifest, ArchiveReader.Header header, ArchiveFile file, DigestTable table,
            ArchiveScan scan, boolean salvage, CryptConfig crypt, Path work) {
        this.work = work;
        this.path = path;
        this.manifest = manifest;
        this.header = header;
        this.file = file;
        this.table = table;
        this.scan = scan;
        this.salvage = salvage;
        this.crypt = crypt;
    }

    /**
     * Opens the archive file {@code path}: header, manifest (checked under {@code crypt} when
     * encrypted) and the digest → offset table.
     */
    public static ArchiveRestore open(Path path, boolean salvage, CryptConfig crypt, Path work) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IOException("restore --from-archive needs an archive file, and " + path + " is not one (a pipe cannot seek: "
                    + "use coffer import, or save the stream to a file first)");
        }
        ArchiveScan scan = null;
        ArchiveReader.Header header;
        DigestTable table;
        if (salvage) {
            try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 20)) {
                scan = ArchiveScan.run(in, path.toString(), true, work);
            }
            header = scan.header();
            table = scan.table();
        } else {
            try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 20)) {
                header = ArchiveReader.open(in, path.toString(), false).readHeader(work);
            }
            table = DigestTable.create(work, 1024);
        }
        ArchiveFile file = null;
        try {
            if (header.manifestBytes() == null) {
                throw new IOException("the header of archive " + path + " is damaged: without its manifest nothing can be restored "
                        + "safely; coffer archive check --salvage lists the intact records");
            }
            Manifest m = Manifest.parse(header.manifestBytes(), "manifest in archive " + path, crypt);
            if (m.encrypted() && crypt == null) {
                throw new IOException("the restore point in archive " + path + " is encrypted (key " + m.keyFingerprint().orElse("?")
                        + "): set COFFER_KEYFILE to its key file");
            }
            if (m.encrypted() && !m.signatureVerified()) {
                throw new IOException("the restore point in archive " + path + " is encrypted with key " + m.keyFingerprint().orElse("?")
                        + ", not with the given key " + crypt.fingerprint());
            }
            file = ArchiveFile.open(path, header.uuid());
            if (!salvage) {
                file.loadTrailer(table);
            }
            return new ArchiveRestore(path, m, header, file, table, scan, salvage, crypt, work);
        } catch (IOException | RuntimeException e) {
            if (file != null) {
                file.close();
            }
            if (scan != null) {
                scan.close();
            } else {
                table.close();
            }
            throw e;
        }
    }

    /** The restore point's manifest, checked. */
    public Manifest manifest() {
        return manifest;
    }

    /** What the salvaging scan skipped (empty without salvage). */
    public List<dev.coffer.chunker.ArchiveDamage> damage() {
        return scan == null ? List.of() : scan.damage();
    }

    /**
     * Restores disk {@code disk} into the target {@code opener} opens.
     *
     * @param lost receives the chunks salvage had to write as zeros (the first
     *     {@link ArchiveScan#MAX_LISTED}); {@code lostCount[0]} counts them all
     */
    public RestoreRun.DiskResult restoreDisk(ManifestDisk disk, RestoreTarget.Opener opener, boolean verify, List<ArchiveScan.Lost> lost,
            long[] lostCount, LongConsumer progress) throws IOException {
        return restoreDisk(disk, opener, verify, lost, lostCount, progress, Math.max(4, Runtime.getRuntime().availableProcessors()));
    }

    /** One chunk's outcome, handled in index order: written, or the fault that lost it. */
    private record Piece(long offset, int length, Digest digest, FormatException fault) {}

    /**
     * {@link #restoreDisk(ManifestDisk, RestoreTarget.Opener, boolean, List, long[], LongConsumer)}
     * with {@code workers} threads reading, decoding and writing chunks (records are read
     * positionally, so in any order); lookups and the salvage report stay on the calling thread,
     * in index order.
     */
    public RestoreRun.DiskResult restoreDisk(ManifestDisk disk, RestoreTarget.Opener opener, boolean verify, List<ArchiveScan.Lost> lost,
            long[] lostCount, LongConsumer progress, int workers) throws IOException {
        // the index is checked before the target is opened, so a bad index leaves no target file behind
        try (IndexView index = IndexView.open(header, disk, manifest.chunkSize(), salvage, path.toString());
                DigestTable failed = DigestTable.create(work, 16);
                RestoreTarget target = opener.open(disk.size());
                ChunkCodec codec = ChunkCodec.create(crypt)) {
            int n = Math.max(1, Math.min(workers, dev.coffer.agent.backup.InFlight.chunks(index.chunkSize()) / 2));
            ThreadLocal<byte[]> plains = ThreadLocal.withInitial(() -> new byte[index.chunkSize()]);
            long[] totals = new long[2]; // written, zero
            try (dev.coffer.agent.backup.ChunkWorkers<Piece> window =
                    new dev.coffer.agent.backup.ChunkWorkers<>(crypt, n, 2 * n, "coffer-archive-restore")) {
                for (long i = 0; i < index.chunkCount(); i++) {
                    Digest d = index.digest(i);
                    int len = index.chunkLength(i);
                    long offset = i * index.chunkSize();
                    if (d != null && d.isZero()) {
                        window.addDone(new Piece(offset, len, d, null));
                    } else if (d == null) {
                        window.addDone(new Piece(offset, len, null, new FormatException.Truncated("archive " + path,
                                "the part of the index of disk " + disk.name() + " naming the chunk at offset " + offset + " is lost")));
                    } else {
                        long at = table.get(d);
                        if (at < 0) {
                            window.addDone(new Piece(offset, len, d, new FormatException.Truncated("archive " + path,
                                    "it has no record in the archive")));
                        } else {
                            window.submit(() -> {
                                byte[] plain = plains.get();
                                try {
                                    window.codec().decodeInto(file.record(at, d).blob(), d, len, plain);
                                } catch (FormatException e) {
                                    return new Piece(offset, len, d, e);
                                }
                                target.write(offset, plain, 0, len);
                                return new Piece(offset, len, d, null);
                            });
                        }
                    }
                    while (window.full()) {
                        account(window.takeOldest(), disk, target, failed, lost, lostCount, totals, progress);
                    }
                }
                while (!window.isEmpty()) {
                    account(window.takeOldest(), disk, target, failed, lost, lostCount, totals, progress);
                }
            }
            long written = totals[0];
            long zero = totals[1];
            target.flush();
            Boolean verified = null;
            if (verify) {
                verify(index, failed, target, codec, disk.name());
                verified = true;
            }
            return new RestoreRun.DiskResult(disk.name(), written, zero, 0, verified);
        }
    }

    /**
     * Reads the target back and checks every restored chunk's digest: what the target now holds
     * is the restore point, except the chunks salvage reported lost.
     */
    private static void verify(IndexView index, DigestTable failed, RestoreTarget target, ChunkCodec codec, String disk)
            throws IOException {
        byte[] buf = new byte[index.chunkSize()];
        for (long i = 0; i < index.chunkCount(); i++) {
            Digest want = index.digest(i);
            if (want == null || failed.get(want) >= 0) {
                continue; // lost: written as zeros and reported
            }
            int len = index.chunkLength(i);
            long offset = i * index.chunkSize();
            target.read(offset, buf, len);
            Digest got = codec.digest(buf, 0, len);
            if (!got.equals(want)) {
                throw new IOException("verify failed: disk " + disk + " on " + target.describe() + " at offset " + offset
                        + " holds chunk " + got.shortHex() + ", the restore point has " + want.shortHex());
            }
        }
    }

    /** Counts one chunk, in index order: zero chunks written as zeros, lost ones reported (salvage) or fatal. */
    private void account(Piece p, ManifestDisk disk, RestoreTarget target, DigestTable failed, List<ArchiveScan.Lost> lost,
            long[] lostCount, long[] totals, LongConsumer progress) throws IOException {
        progress.accept(p.length());
        Digest d = p.digest();
        if (p.fault() == null && d.isZero()) {
            target.writeZeroes(p.offset(), p.length());
            totals[1] += p.length();
            return;
        }
        if (p.fault() == null) {
            totals[0] += p.length();
            return;
        }
        if (!salvage) {
            throw new IOException("chunk " + (d == null ? "?" : d.hex()) + " at offset " + p.offset() + " of disk " + disk.name()
                    + " cannot be restored: " + p.fault().getMessage(), p.fault());
        }
        if (d != null) {
            failed.putIfAbsent(d, 1);
        }
        ArchiveScan.Lost prev = lost.isEmpty() ? null : lost.getLast();
        if (d == null && prev != null && prev.digest() == null && prev.disk().equals(disk.name())
                && prev.offset() + prev.length() == p.offset()) {
            // a run of chunks named by a lost part of the index is one entry
            lost.set(lost.size() - 1, new ArchiveScan.Lost(disk.name(), prev.offset(), prev.length() + p.length(), null));
        } else if (lost.size() < ArchiveScan.MAX_LISTED) {
            lost.add(new ArchiveScan.Lost(disk.name(), p.offset(), p.length(), d == null ? null : d.hex()));
        }
        lostCount[0]++;
        target.writeZeroes(p.offset(), p.length());
        totals[1] += p.length();
    }

    /** Writes config file {@code f} to {@code to}; salvage may have lost it (then false). */
    public boolean restoreFile(ManifestFile f, Path to, boolean overwrite) throws IOException {
        Path p = header.files().get(f.name());
        if (p == null) {
            if (salvage) {
                return false;
            }
            throw new IOException("config file " + f.name() + " is missing from archive " + path);
        }
        byte[] bytes = ConfigBlob.open(f, Files.readAllBytes(p), manifest, crypt, "archive " + path);
        if (Files.exists(to) && Files.size(to) > 0 && !overwrite) {
            throw new IOException(to + " exists; pass --overwrite to replace it");
        }
        dev.coffer.chunker.AtomicFiles.replace(to, bytes);
        return true;
    }

    @Override
    public void close() throws IOException {
        try {
            file.close();
        } finally {
            if (scan != null) {
                scan.close();
            } else {
                table.close();
            }
            for (Path p : header.files().values()) {
                Files.deleteIfExists(p);
            }
            for (ArchiveReader.Partial p : header.partial().values()) {
                Files.deleteIfExists(p.path());
            }
        }
    }
}
