package dev.coffer.agent.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.archive.ArchiveRestore;
import dev.coffer.agent.archive.ArchiveScan;
import dev.coffer.agent.archive.WorkDir;
import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.chunker.ArchiveDamage;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.ManifestFile;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.Wire;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code --from-archive} branch of {@code coffer restore}: the same targets and output as a
 * restore from a store, read from an archive file by {@link ArchiveRestore}; with {@code --salvage}
 * the output also lists damaged ranges and lost chunks, and the exit code is 1 when any were lost.
 * Kept apart from {@link RestoreCommand} so that command stays about the store.
 */
final class ArchiveRestoreCli {

    private ArchiveRestoreCli() {}

    static int run(RestoreCommand c) throws Exception {
        if (c.fromArchive == null) {
            throw new picocli.CommandLine.ParameterException(c.spec.commandLine(), "--salvage needs --from-archive FILE");
        }
        SnapshotId id = SnapshotId.parsePath(c.snapshot);
        long started = System.nanoTime();
        List<RestoreRun.DiskResult> results = new ArrayList<>();
        List<String> files = new ArrayList<>();
        List<ArchiveScan.Lost> lost = new ArrayList<>();
        long[] lostCount = {0};
        List<ArchiveDamage> damage;
        try (WorkDir work = WorkDir.create("coffer-restore-");
                ArchiveRestore a = ArchiveRestore.open(c.fromArchive, c.salvage, c.key.load(), work.path())) {
            if (!a.manifest().snapshot().equals(id)) {
                throw new IllegalArgumentException("archive " + c.fromArchive + " holds restore point " + a.manifest().snapshot()
                        + ", not " + id);
            }
            List<ManifestDisk> disks = a.manifest().disks();
            List<String[]> jobs = new ArrayList<>();
            if (c.where.all != null) {
                Files.createDirectories(c.where.all.dir);
                disks.forEach(d -> jobs.add(new String[] {d.name(), "file:" + c.where.all.dir.resolve(d.name() + ".raw")}));
            } else {
                String name = c.where.one.disk;
                if (name == null) {
                    if (disks.size() != 1) {
                        throw new IllegalArgumentException("restore point " + id + " has " + disks.size() + " disks; choose one with --disk ("
                                + String.join(", ", disks.stream().map(ManifestDisk::name).toList()) + ") or restore all with --all --to-dir DIR");
                    }
                    name = disks.getFirst().name();
                }
                jobs.add(new String[] {name, c.where.one.to});
            }
            for (String[] job : jobs) {
                ManifestDisk d = disks.stream().filter(x -> x.name().equals(job[0])).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("restore point " + id + " has no disk '" + job[0] + "'; it has: "
                                + String.join(", ", disks.stream().map(ManifestDisk::name).toList())));
                try (ProgressLine progress = new ProgressLine("restore " + d.name(), d.size())) {
                    results.add(a.restoreDisk(d, c.opener(job[1]), c.verify, lost, lostCount, progress,
                            c.workers != null ? c.workers : Math.max(4, Runtime.getRuntime().availableProcessors())));
                }
            }
            if (c.where.all != null) {
                for (ManifestFile f : a.manifest().files()) {
                    if (a.restoreFile(f, c.where.all.dir.resolve(f.name()), c.overwrite)) {
                        files.add(c.where.all.dir.resolve(f.name()).toString());
                    }
                }
            }
            damage = a.damage();
        }
        print(c, id, results, files, lost, lostCount[0], damage, (System.nanoTime() - started) / 1e9);
        if (lostCount[0] > 0) {
            c.spec.commandLine().getErr().println("coffer restore: " + lostCount[0] + " chunk(s) were lost in the archive and restored as zeros");
            return 1;
        }
        return 0;
    }

    private static void print(RestoreCommand c, SnapshotId id, List<RestoreRun.DiskResult> disks, List<String> files,
            List<ArchiveScan.Lost> lost, long lostCount, List<ArchiveDamage> damage, double seconds) {
        PrintWriter out = c.spec.commandLine().getOut();
        if (c.json) {
            ObjectNode o = Wire.mapper().createObjectNode();
            o.put("snapshot", id.path());
            ArrayNode arr = o.putArray("disks");
            for (RestoreRun.DiskResult d : disks) {
                ObjectNode dn = Wire.mapper().valueToTree(d);
                if (d.verified() == null) {
                    dn.remove("verified");
                }
                arr.add(dn);
            }
            if (!files.isEmpty()) {
                ArrayNode fa = o.putArray("files");
                files.forEach(fa::add);
            }
            if (c.salvage) {
                o.put("lost_chunks", lostCount);
                ArrayNode la = o.putArray("lost");
                lost.forEach(l -> la.addObject().put("disk", l.disk()).put("offset", l.offset()).put("length", l.length())
                        .put("digest", l.digest()));
                ArrayNode da = o.putArray("damage");
                damage.forEach(d -> da.addObject().put("offset", d.offset()).put("length", d.length()).put("reason", d.reason()));
            }
            o.put("duration_s", Math.round(seconds * 1000) / 1000.0);
            out.println(o);
        } else {
            for (RestoreRun.DiskResult d : disks) {
                out.printf("restored disk %s of %s from archive %s: %s written, %s zero%s%n", d.name(), id, c.fromArchive,
                        ProgressLine.human(d.writtenBytes()), ProgressLine.human(d.zeroBytes()),
                        Boolean.TRUE.equals(d.verified()) ? ", verified by reading it back" : "");
            }
            files.forEach(f -> out.println("restored config file " + f));
            damage.forEach(d -> out.printf("damaged: %d bytes at offset %d of the archive: %s%n", d.length(), d.offset(), d.reason()));
            lost.forEach(l -> out.printf("lost: disk %s offset %d, %d bytes, chunk %s (written as zeros)%n", l.disk(), l.offset(), l.length(),
                    l.digest() == null ? "unknown (that part of the index is lost)" : l.digest()));
            if (lostCount > lost.size()) {
                out.printf("… and %d more lost chunks%n", lostCount - lost.size());
            }
            out.printf("in %.1f s%n", seconds);
        }
        out.flush();
    }
}
