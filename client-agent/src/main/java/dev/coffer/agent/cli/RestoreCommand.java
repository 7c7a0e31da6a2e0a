package dev.coffer.agent.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code coffer restore SNAPSHOT --disk NAME --to file:/path}: one disk back into a file or block device. */
@Command(name = "restore", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Restores one disk of a restore point into a file (written sparse), a block device or an NBD export.",
            "Every chunk is verified against its digest before it is written; a damaged chunk stops the restore "
                + "naming the chunk and offset."})
public final class RestoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "The restore point, such as vm/101/2026-11-22T10:00:00Z.")
    String snapshot;

    @Option(names = "--disk", paramLabel = "NAME", description = "The disk to restore (default: the only disk).")
    String disk;

    @Option(names = "--to", paramLabel = "URI", required = true,
            description = "The target: file:/path (a new file, or a block device), or an NBD export: nbd+unix:///EXPORT?socket=PATH, nbd://HOST:PORT/EXPORT.")
    String to;

    @Option(names = "--overwrite", description = "Allow writing over an existing non-empty file.")
    boolean overwrite;

    @Option(names = "--workers", paramLabel = "N", description = "Chunks fetched in parallel (default: max(4, cores)).")
    Integer workers;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Mixin
    StoreOptions store;

    @Mixin
    KeyOptions key;

    @Override
    public Integer call() throws Exception {
        SnapshotId id = SnapshotId.parsePath(snapshot);
        boolean nbd = to.startsWith("nbd:") || to.startsWith("nbd+unix:");
        dev.coffer.agent.nbd.NbdUri nbdUri = nbd ? dev.coffer.agent.nbd.NbdUri.parse(to) : null;
        Path target = nbd ? null : Sources.filePath(to);
        CryptConfig crypt = key.load();
        int n = workers != null ? workers : Math.max(4, Runtime.getRuntime().availableProcessors());
        try (StoreClient client = store.connect(n + 2)) {
            var manifest = RestoreRun.manifest(client, id.path(), crypt);
            String name = disk;
            if (name == null) {
                if (manifest.disks().size() != 1) {
                    throw new IllegalArgumentException("restore point " + id + " has " + manifest.disks().size()
                            + " disks; choose one with --disk (" + String.join(", ", manifest.disks().stream().map(ManifestDisk::name).toList()) + ")");
                }
                name = manifest.disks().getFirst().name();
            }
            String chosen = name;
            long size = manifest.disks().stream().filter(d -> d.name().equals(chosen)).mapToLong(ManifestDisk::size).findFirst().orElse(0);
            Path work = Files.createTempDirectory("coffer-restore-");
            RestoreRun.Result r;
            try (ProgressLine progress = new ProgressLine("restore " + name, size)) {
                r = nbd ? RestoreRun.run(client, id.path(), name, size2 -> dev.coffer.agent.restore.NbdRestoreTarget.open(nbdUri, size2),
                        crypt, n, work, progress)
                        : RestoreRun.run(client, id.path(), name, target, overwrite, crypt, n, work, progress);
            } finally {
                Files.deleteIfExists(work);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectNode o = Wire.mapper().createObjectNode();
                o.put("snapshot", r.snapshot());
                ArrayNode disks = o.putArray("disks");
                r.disks().forEach(d -> disks.add(Wire.mapper().valueToTree(d)));
                o.put("duration_s", Math.round(r.durationS() * 1000) / 1000.0);
                out.println(o);
            } else {
                for (RestoreRun.DiskResult d : r.disks()) {
                    out.printf("restored %s of %s to %s in %.1f s: %s written, %s zero%n", d.name(), r.snapshot(), to,
                            r.durationS(), ProgressLine.human(d.writtenBytes()), ProgressLine.human(d.zeroBytes()));
                }
            }
            out.flush();
        }
        return 0;
    }
}
