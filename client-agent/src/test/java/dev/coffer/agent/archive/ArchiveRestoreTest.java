package dev.coffer.agent.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.agent.restore.FileRestoreTarget;
import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.chunker.ArchiveWriter;
import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndex;
import dev.coffer.chunker.FixedIndexWriter;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restore from a real archive file into a real file, without a store: whole, refused when
 * damaged, and salvaged with the lost chunks named and written as zeros. Records are written in
 * reverse index order, since an archive may hold them in any order.
 */
final class ArchiveRestoreTest {

    private static final int CS = 64 * 1024;

    @TempDir
    Path dir;
    byte[] image;
    Path archive;
    /** The offset of the record holding chunk 7, which chunk 0 repeats. */
    long repeatedRecord;

    @BeforeEach
    void writeArchive() throws Exception {
        image = new byte[10 * CS + 123];
        Random r = new Random(11);
        for (int c = 0; c < 11; c++) {
            if (c != 4) { // chunk 4 stays zero
                byte[] part = new byte[CS];
                r.nextBytes(part);
                System.arraycopy(part, 0, image, c * CS, Math.min(CS, image.length - c * CS));
            }
        }
        System.arraycopy(image, 0, image, 7 * CS, CS); // chunk 7 repeats chunk 0
        Path idx = dir.resolve("vda.fidx");
        List<Digest> digests = new ArrayList<>();
        Digest checksum;
        try (ChunkCodec codec = ChunkCodec.create(null);
                FixedIndexWriter w = FixedIndexWriter.create(idx, UUID.randomUUID(), Instant.now(), image.length, CS)) {
            for (long i = 0; i < FixedIndex.chunkCount(image.length, CS); i++) {
                Digest d = codec.digest(image, (int) (i * CS), FixedIndex.chunkLength(image.length, CS, i));
                digests.add(d);
                w.append(d);
            }
            checksum = w.finish();
        }
        Manifest m = Manifest.builder().snapshot(SnapshotId.parsePath("vm/5/2026-11-20T08:00:00Z")).chunkSize(CS)
                .addDisk(new ManifestDisk("vda", image.length, new ManifestDisk.IndexRef("vda.fidx", Files.size(idx), checksum),
                        ManifestDisk.Mode.FULL, "no-base", null, Map.of()))
                .createdBy("test").sign(null);
        archive = dir.resolve("a.cfa");
        try (OutputStream out = Files.newOutputStream(archive);
                ArchiveWriter w = ArchiveWriter.start(out, UUID.randomUUID(), Instant.now(), m.toBytes(), dir);
                ChunkCodec codec = ChunkCodec.create(null)) {
            w.file("vda.fidx", idx);
            Set<Digest> seen = new HashSet<>();
            for (int i = digests.size() - 1; i >= 0; i--) {
                Digest d = digests.get(i);
                if (!d.isZero() && seen.add(d)) {
                    int len = FixedIndex.chunkLength(image.length, CS, i);
                    if (i == 7) {
                        repeatedRecord = w.offset();
                    }
                    w.chunk(d, len, codec.encode(image, i * CS, len));
                }
            }
            w.finish();
        }
        Files.delete(idx);
    }

    private RestoreRun.DiskResult restore(Path from, boolean salvage, Path to, List<ArchiveScan.Lost> lost, long[] count)
            throws Exception {
        Path work = Files.createTempDirectory(dir, "work");
        try (ArchiveRestore a = ArchiveRestore.open(from, salvage, null, work)) {
            return a.restoreDisk(a.manifest().disks().getFirst(), size -> FileRestoreTarget.open(to, size, false), true, lost, count,
                    n -> { });
        }
    }

    @Test
    void shouldRestoreRecordsWrittenInAnyOrderAndVerify() throws Exception {
        Path out = dir.resolve("vda.raw");
        RestoreRun.DiskResult r = restore(archive, false, out, new ArrayList<>(), new long[1]);
        assertThat(r.verified()).isTrue();
        assertThat(r.zeroBytes()).isEqualTo(CS);
        assertThat(Files.readAllBytes(out)).isEqualTo(image);
        try (var files = Files.list(dir.resolve(Files.list(dir).filter(p -> p.getFileName().toString().startsWith("work"))
                .findFirst().orElseThrow().getFileName()))) {
            assertThat(files).as("header files and table removed").isEmpty();
        }
    }

    @Test
    void shouldRefuseADamagedRecordAndSalvageEverythingElse() throws Exception {
        byte[] b = Files.readAllBytes(archive);
        long rec = repeatedRecord;
        b[(int) rec + 1000] ^= 1;
        Path damaged = Files.write(dir.resolve("d.cfa"), b);
        assertThatThrownBy(() -> restore(damaged, false, dir.resolve("x.raw"), new ArrayList<>(), new long[1]))
                .hasMessageContaining("chunk ").hasMessageContaining("at offset 0 of disk vda")
                .hasMessageContaining("at offset " + rec).hasMessageContaining("CRC32C mismatch");
        List<ArchiveScan.Lost> lost = new ArrayList<>();
        long[] count = {0};
        Path out = dir.resolve("s.raw");
        Path work = Files.createTempDirectory(dir, "salvage");
        try (ArchiveRestore a = ArchiveRestore.open(damaged, true, null, work)) {
            a.restoreDisk(a.manifest().disks().getFirst(), size -> FileRestoreTarget.open(out, size, false), false, lost, count,
                    n -> { });
            assertThat(a.damage()).hasSize(1);
            assertThat(a.damage().getFirst().offset()).isEqualTo(rec);
        }
        assertThat(count[0]).isEqualTo(2);
        assertThat(lost).extracting(ArchiveScan.Lost::offset).containsExactly(0L, 7L * CS);
        byte[] want = image.clone();
        java.util.Arrays.fill(want, 0, CS, (byte) 0);
        java.util.Arrays.fill(want, 7 * CS, 8 * CS, (byte) 0);
        assertThat(Files.readAllBytes(out)).isEqualTo(want);
        // archive check says the same without restoring anything
        try (ArchiveScan scan = ArchiveScan.run(new ByteArrayInputStream(b), "d.cfa", true, Files.createTempDirectory(dir, "check"))) {
            ArchiveScan.LostReport report = scan.lost(scan.header().manifest());
            assertThat(report.chunks()).isEqualTo(2);
            assertThat(report.bytes()).isEqualTo(2L * CS);
            assertThat(report.listed()).extracting(ArchiveScan.Lost::disk).containsOnly("vda");
        }
    }

    @Test
    void shouldRestoreWhatTheIntactPartsOfADamagedIndexNameAndReportTheRest() throws Exception {
        // 40000 chunks of 64 KiB: an index of 4096 + 1 280 000 bytes, two 1 MiB file parts
        int chunks = 40_000;
        byte[] a = new byte[CS];
        byte[] b = new byte[CS];
        new Random(1).nextBytes(a);
        new Random(2).nextBytes(b);
        Path idx = dir.resolve("big.fidx");
        Digest checksum;
        Digest da;
        Digest db;
        try (ChunkCodec codec = ChunkCodec.create(null);
                FixedIndexWriter w = FixedIndexWriter.create(idx, UUID.randomUUID(), Instant.now(), (long) chunks * CS, CS)) {
            da = codec.digest(a, 0, CS);
            db = codec.digest(b, 0, CS);
            for (int i = 0; i < chunks; i++) {
                w.append(i == 3 ? da : i == 35_000 ? db : Digest.ZERO);
            }
            checksum = w.finish();
        }
        Manifest m = Manifest.builder().snapshot(SnapshotId.parsePath("vm/6/2026-11-20T08:00:00Z")).chunkSize(CS)
                .addDisk(new ManifestDisk("big", (long) chunks * CS, new ManifestDisk.IndexRef("big.fidx", Files.size(idx), checksum),
                        ManifestDisk.Mode.FULL, "no-base", null, Map.of()))
                .createdBy("test").sign(null);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (ArchiveWriter w = ArchiveWriter.start(bytes, UUID.randomUUID(), Instant.now(), m.toBytes(), dir);
                ChunkCodec codec = ChunkCodec.create(null)) {
            w.file("big.fidx", idx);
            w.chunk(db, CS, codec.encode(b, 0, CS));
            w.chunk(da, CS, codec.encode(a, 0, CS));
            w.finish();
        }
        byte[] arch = bytes.toByteArray();
        long part2 = 0;
        for (int f = 0; f < 2; f++) { // header frame, first part of the index
            part2 += 36 + java.nio.ByteBuffer.wrap(arch, (int) part2 + 28, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        }
        arch[(int) part2 + 100_000] ^= 1;
        Path damaged = Files.write(dir.resolve("big.cfa"), arch);

        assertThatThrownBy(() -> restore(damaged, false, dir.resolve("no.raw"), new ArrayList<>(), new long[1]))
                .hasMessageContaining("at offset " + part2).hasMessageContaining("file frame CRC32C mismatch");
        List<ArchiveScan.Lost> lost = new ArrayList<>();
        long[] count = {0};
        Path out = dir.resolve("big.raw");
        RestoreRun.DiskResult r = restore(damaged, true, out, lost, count);
        assertThat(r.verified()).as("what was restored reads back right").isTrue();
        long firstUnknown = (1024 * 1024 - 4096) / 32; // the first digest of the lost second part
        assertThat(lost).containsExactly(new ArchiveScan.Lost("big", firstUnknown * CS, (chunks - firstUnknown) * (long) CS, null));
        assertThat(count[0]).isEqualTo(chunks - firstUnknown);
        assertThat(Files.size(out)).isEqualTo((long) chunks * CS);
        try (var ch = java.nio.channels.FileChannel.open(out)) {
            java.nio.ByteBuffer got = java.nio.ByteBuffer.allocate(CS);
            ch.read(got, 3L * CS);
            assertThat(got.array()).as("chunk 3, named by the intact first part").isEqualTo(a);
            got.clear();
            ch.read(got, 35_000L * CS);
            assertThat(got.array()).as("chunk 35000, named only by the lost part").isEqualTo(new byte[CS]);
        }
        try (ArchiveScan scan = ArchiveScan.run(new ByteArrayInputStream(arch), "big.cfa", true, Files.createTempDirectory(dir, "c"))) {
            ArchiveScan.LostReport report = scan.lost(scan.header().manifest());
            assertThat(report.listed()).containsExactly(
                    new ArchiveScan.Lost("big", firstUnknown * CS, (chunks - firstUnknown) * (long) CS, null));
            assertThat(report.chunks()).isEqualTo(chunks - firstUnknown);
            assertThat(scan.header().partial().get("big.fidx").gaps()).hasSize(1);
        }
    }

    @Test
    void shouldRefuseAPipe() {
        assertThatThrownBy(() -> ArchiveRestore.open(Path.of("/dev/stdin"), false, null, dir))
                .hasMessageContaining("a pipe cannot seek");
    }
}
