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
    void shouldRefuseAPipe() {
        assertThatThrownBy(() -> ArchiveRestore.open(Path.of("/dev/stdin"), false, null, dir))
                .hasMessageContaining("a pipe cannot seek");
    }
}
