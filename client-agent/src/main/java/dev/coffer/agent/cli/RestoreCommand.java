package dev.coffer.agent.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.nbd.NbdUri;
import dev.coffer.agent.restore.FileRestoreTarget;
import dev.coffer.agent.restore.NbdRestoreTarget;
import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.agent.restore.RestoreTarget;
import dev.coffer.chunker.ConfigBlob;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.ManifestFile;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code coffer restore SNAPSHOT --disk NAME --to URI} (one disk into a file, block device or NBD
 * export) or {@code --all --to-dir DIR} (every disk and the config files).
 */
@Command(name = "restore", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Restores one disk of a restore point into a file (written sparse), a block device or an NBD export, "
                + "or with --all every disk and the config files into a directory.",
            "Every chunk is verified against its digest before it is written; a damaged chunk stops the restore "
                + "naming the chunk and offset. --verify reads the target back afterwards and checks it again."})
public final class RestoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "The restore point, such as vm/101/2026-11-22T10:00:00Z.")
    String snapshot;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Where where;

    static final class Where {
        @ArgGroup(exclusive = false)
        One one;

        @ArgGroup(exclusive = false)
        All all;
    }

    static final class One {
        @Option(names = "--disk", paramLabel = "NAME", description = "The disk to restore (default: the only disk).")
        String disk;

        @Option(names = "--to", paramLabel = "URI", required = true,
                description = "The target: file:/path (a new file, or a block device), or an NBD export: "
                        + "nbd+unix:///EXPORT?socket=PATH, nbd://HOST:PORT/EXPORT.")
        String to;
    }

    static final class All {
        @Option(names = "--all", required = true, description = "Restore every disk (as DIR/<disk>.raw) and every config file.")
        boolean all;

        @Option(names = "--to-dir", paramLabel = "DIR", required = true, description = "The directory for --all (created if missing).")
        Path dir;
    }

    @Option(names = "--overwrite", description = "Allow writing over existing non-empty files.")
    boolean overwrite;

    @Option(names = "--verify", description = "Read each target back afterwards and compare every chunk's digest.")
    boolean verify;

    @Option(names = "--workers", paramLabel = "N", description = "Chunks fetched in parallel (default: max(4, cores)).")
    Integer workers;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Option(names = "--from-archive", paramLabel = "FILE",
            description = "Restore from a single-file archive (coffer export) instead of a store; needs a file, not a pipe.")
    Path fromArchive;

    @Option(names = "--salvage", description = "With --from-archive: read past damage, write lost chunks as zeros and list them.")
    boolean salvage;

    @Mixin
    StoreOptions store;

    @Mixin
    KeyOptions key;

    @Mixin
    LiveOptions live;

    @Override
    public Integer call() throws Exception {
        if (fromArchive != null || salvage) {
            return ArchiveRestoreCli.run(this);
        }
        SnapshotId id = SnapshotId.parsePath(snapshot);
        if (live.live) {
            return live.run(spec, id, where.one, store, key, json);
        }
        CryptConfig crypt = key.load();
        int n = workers != null ? workers : Math.max(4, Runtime.getRuntime().availableProcessors());
        List<RestoreRun.DiskResult> results = new ArrayList<>();
        List<String> files = new ArrayList<>();
        double seconds = 0;
        try (StoreClient client = store.connect(n + 2)) {
            Manifest manifest = RestoreRun.manifest(client, id.path(), crypt);
            List<String[]> jobs = new ArrayList<>(); // disk name, target URI
            if (where.all != null) {
                Files.createDirectories(where.all.dir);
                for (ManifestDisk d : manifest.disks()) {
                    jobs.add(new String[] {d.name(), "file:" + where.all.dir.resolve(d.name() + ".raw")});
                }
            } else {
                String name = where.one.disk;
                if (name == null) {
                    if (manifest.disks().size() != 1) {
                        throw new IllegalArgumentException("restore point " + id + " has " + manifest.disks().size()
                                + " disks; choose one with --disk (" + String.join(", ",
                                manifest.disks().stream().map(ManifestDisk::name).toList()) + ") or restore all with --all --to-dir DIR");
                    }
                    name = manifest.disks().getFirst().name();
                }
                jobs.add(new String[] {name, where.one.to});
            }
            Path work = Files.createTempDirectory("coffer-restore-");
            try {
                for (String[] job : jobs) {
                    long size = manifest.disks().stream().filter(d -> d.name().equals(job[0])).mapToLong(ManifestDisk::size)
                            .findFirst().orElse(0);
                    try (ProgressLine progress = new ProgressLine("restore " + job[0], size)) {
                        RestoreRun.Result r = RestoreRun.run(client, id.path(), job[0], opener(job[1]), crypt, n, work, verify, progress);
                        results.addAll(r.disks());
                        seconds += r.durationS();
                    }
                }
            } finally {
                Files.deleteIfExists(work);
            }
            if (where.all != null) {
                for (ManifestFile f : manifest.files()) {
                    files.add(restoreFile(client, id, manifest, crypt, f, where.all.dir.resolve(f.name())));
                }
            }
        }
        print(id, results, files, seconds);
        return 0;
    }

    RestoreTarget.Opener opener(String uri) {
        if (uri.startsWith("nbd:") || uri.startsWith("nbd+unix:")) {
            NbdUri nbd = NbdUri.parse(uri);
            return size -> NbdRestoreTarget.open(nbd, size);
        }
        Path path = Sources.filePath(uri);
        return size -> FileRestoreTarget.open(path, size, overwrite);
    }

    /** A config file: fetched, checked against the manifest, decrypted when encrypted, written. */
    private String restoreFile(StoreClient client, SnapshotId id, Manifest manifest, CryptConfig crypt, ManifestFile f, Path to)
            throws Exception {
        byte[] bytes = ConfigBlob.open(f, client.snapshotFile(id.path(), f.name()), manifest, crypt, "restore point " + id);
        if (Files.exists(to) && Files.size(to) > 0 && !overwrite) {
            throw new IOException(to + " exists; pass --overwrite to replace it");
        }
        dev.coffer.chunker.AtomicFiles.replace(to, bytes);
        return to.toString();
    }

    private void print(SnapshotId id, List<RestoreRun.DiskResult> disks, List<String> files, double seconds) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode o = Wire.mapper().createObjectNode();
            o.put("snapshot", id.path());
            ArrayNode arr = o.putArray("disks");
            disks.forEach(d -> {
                ObjectNode dn = Wire.mapper().valueToTree(d);
                if (d.verified() == null) {
                    dn.remove("verified");
                }
                arr.add(dn);
            });
            if (!files.isEmpty()) {
                ArrayNode fa = o.putArray("files");
                files.forEach(fa::add);
            }
            o.put("duration_s", Math.round(seconds * 1000) / 1000.0);
            out.println(o);
        } else {
            for (RestoreRun.DiskResult d : disks) {
                out.printf("restored disk %s of %s: %s written, %s zero%s%n", d.name(), id, ProgressLine.human(d.writtenBytes()),
                        ProgressLine.human(d.zeroBytes()), Boolean.TRUE.equals(d.verified()) ? ", verified by reading it back" : "");
            }
            files.forEach(f -> out.println("restored config file " + f));
            out.printf("in %.1f s%n", seconds);
        }
        out.flush();
    }
}
