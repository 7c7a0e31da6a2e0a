package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.backup.BackupRun;
import dev.coffer.agent.backup.FileChunkSource;
import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.agent.vm.VmBackup;
import dev.coffer.agent.vm.VmBackupOptions;
import dev.coffer.chunker.GroupId;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.StoreEndpoint;
import dev.coffer.store.api.Wire;
import dev.coffer.store.datastore.Datastore;
import dev.coffer.store.datastore.DatastoreOptions;
import dev.coffer.store.security.Grant;
import dev.coffer.store.server.StoreServer;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coffer quickstart}: the whole product in one command, with nothing to set up — a local
 * store under the working directory, a demo disk, a full and an incremental backup, a restore
 * whose checksum is compared with the disk, and the URL and settings to keep exploring.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs a local store in ./coffer-quickstart, backs up a 256 MiB demo disk twice (full, then incremental "
                + "after a few changes), restores it and compares checksums. Where qemu-storage-daemon is installed the disk runs "
                + "in it and is backed up live over QMP, as a VM's would be.",
            "Run it again to add more restore points; --keep-running leaves the store up for the CLI and the dashboard."})
public final class QuickstartCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "coffer-quickstart",
            description = "Where the store, the demo disk and the restored copy live (default ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--keep-running", description = "Keep the store running afterwards (Ctrl-C stops it).")
    boolean keepRunning;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Option(names = "--no-qemu", description = "Back up the demo disk as a plain image file even when QEMU is installed.")
    boolean noQemu;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path root = Files.createDirectories(dir.toAbsolutePath());
        Path dsDir = root.resolve("datastore");
        Path disk = root.resolve("demo-disk.raw");
        Path restored = root.resolve("restored.raw");
        int existing = Datastore.existingChunkSize(dsDir);
        DatastoreOptions options = DatastoreOptions.DEFAULT.withChunkSize(existing > 0 ? existing : DatastoreOptions.DEFAULT.chunkSize());
        Map<String, StoreServer.DatastoreSpec> specs = new LinkedHashMap<>();
        specs.put("default", new StoreServer.DatastoreSpec(dsDir, options));
        say(out, "starting a local store in " + dsDir);
        try (StoreServer server = StoreServer.start(new StoreServer.Options("127.0.0.1", 0, false, root.resolve("server"), specs,
                Duration.ofMinutes(5), List.of()))) {
            String token = server.tokens().create("quickstart-" + Instant.now().getEpochSecond(),
                    List.of(Grant.admin())).plaintext();
            StoreEndpoint endpoint = new StoreEndpoint(java.net.URI.create(server.url()), "default", token, server.fingerprint());
            boolean fresh = !Files.exists(disk);
            if (fresh) {
                say(out, "creating a 256 MiB demo disk with 44 MiB of data in " + disk);
                DemoDisk.create(disk, 1);
            }
            int workers = Math.max(4, Runtime.getRuntime().availableProcessors());
            GroupId group = GroupId.parse(null, "vm/demo");
            BackupRun.Result full;
            BackupRun.Result incremental;
            RestoreRun.Result restore;
            String want;
            boolean qemu = !noQemu && DemoVm.available();
            try (StoreClient client = StoreClient.connect(endpoint, workers + 2)) {
                Path work = Files.createDirectories(root.resolve("work"));
                Files.deleteIfExists(restored);
                if (qemu) {
                    say(out, "QEMU found: the demo disk runs in a qemu-storage-daemon and is backed up live over QMP");
                    try (DemoVm vm = DemoVm.start(root.resolve("demo-disk.qcow2"), disk, root.resolve("scratch"))) {
                        full = backupVm(client, group, vm, workers, work);
                        say(out, describe("first backup", full));
                        vm.change(System.nanoTime());
                        incremental = backupVm(client, group, vm, workers, work);
                        say(out, describe("second backup, after the guest changed 3 places", incremental));
                        want = vm.sha256();
                    }
                    restore = RestoreRun.run(client, incremental.snapshot(), DemoVm.DRIVE, restored, false, null, workers, work,
                            n -> { });
                } else {
                    say(out, noQemu ? "backing up the demo disk as an image file (--no-qemu)"
                            : "qemu-storage-daemon not found: backing up the demo disk as an image file "
                                    + "(install qemu-utils and qemu-system-common to see a live QEMU backup)");
                    full = backup(client, group, disk, options.chunkSize(), workers, work);
                    say(out, describe("first backup", full));
                    DemoDisk.change(disk, System.nanoTime());
                    incremental = backup(client, group, disk, options.chunkSize(), workers, work);
                    say(out, describe("second backup, after the guest changed 3 places", incremental));
                    restore = RestoreRun.run(client, incremental.snapshot(), "drive0", restored, false, null, workers, work, n -> { });
                    want = sha256(disk);
                }
            }
            String got = sha256(restored);
            boolean same = want.equals(got);
            say(out, "restored " + incremental.snapshot() + " to " + restored + " in " + seconds(restore.durationS())
                    + ": SHA-256 " + (same ? "matches the disk (" + want.substring(0, 16) + "…)" : "DIFFERS: " + got + " vs " + want));
            String dashboard = server.url() + "/";
            if (json) {
                ObjectNode n = Wire.mapper().createObjectNode();
                n.put("url", server.url());
                n.put("datastore", "default");
                n.put("fingerprint", server.fingerprint());
                n.set("full", Wire.mapper().valueToTree(full));
                n.set("incremental", Wire.mapper().valueToTree(incremental));
                n.set("restore", Wire.mapper().valueToTree(restore));
                n.put("restore_verified", same);
                n.put("qemu", qemu);
                n.put("dashboard", dashboard);
                out.println(n);
            } else {
                out.println();
                out.println("dashboard: " + dashboard + (keepRunning ? "" : " (while the store runs: coffer quickstart --keep-running)"));
                out.println("to use the CLI against it" + (keepRunning ? ":" : " (with --keep-running):"));
                out.println("  export COFFER_STORE=" + server.url() + "/default");
                out.println("  export COFFER_FINGERPRINT=" + server.fingerprint());
                out.println("  export COFFER_TOKEN=" + token);
                out.println("  coffer snapshots");
            }
            out.flush();
            if (!same) {
                return 1;
            }
            if (keepRunning) {
                say(out, "store running; Ctrl-C stops it");
                CountDownLatch forever = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown));
                forever.await();
            }
        }
        return 0;
    }

    private static BackupRun.Result backup(StoreClient client, GroupId group, Path disk, int chunkSize, int workers, Path work)
            throws Exception {
        // restore point times have whole seconds and must increase
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Thread.sleep(Math.max(0, now.plusSeconds(1).toEpochMilli() - System.currentTimeMillis()));
        try (FileChunkSource source = FileChunkSource.open(disk, chunkSize)) {
            return BackupRun.run(client, group, Instant.now().truncatedTo(ChronoUnit.SECONDS),
                    List.of(new BackupRun.DiskSpec("drive0", source)), List.of(), null, workers, work,
                    "coffer " + CofferVersion.version(), n -> { });
        }
    }

    /** A live backup of the demo VM over QMP: point-in-time view, checkpoint, only dirty chunks read the second time. */
    private static BackupRun.Result backupVm(StoreClient client, GroupId group, DemoVm vm, int workers, Path work) throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Thread.sleep(Math.max(0, now.plusSeconds(1).toEpochMilli() - System.currentTimeMillis()));
        VmBackupOptions o = new VmBackupOptions(vm.qmp, List.of(DemoVm.DRIVE), vm.scratch, 0, vm.live, null);
        try (VmBackup b = VmBackup.connect(o)) {
            return BackupRun.run(client, group, Instant.now().truncatedTo(ChronoUnit.SECONDS), new BackupRun.Disks() {
                @Override
                public List<BackupRun.DiskSpec> open(BackupRun.Context ctx) throws java.io.IOException {
                    return b.freeze(ctx, group);
                }

                @Override
                public void beforeFinish() throws java.io.IOException {
                    b.checkIntact();
                }
            }, List.of(), null, workers, work, "coffer " + CofferVersion.version(), n -> { });
        }
    }

    private void say(PrintWriter out, String line) {
        if (json) {
            System.err.println(line);
        } else {
            out.println(line);
            out.flush();
        }
    }

    private static String describe(String what, BackupRun.Result r) {
        BackupRun.DiskResult d = r.disks().getFirst();
        return String.format("%s: %s in %s, %s — read %d MiB of %d MiB (holes skipped), reused %d MiB, uploaded %d chunks (%d MiB compressed)",
                what, r.snapshot(), seconds(r.durationS()), d.reason() == null ? d.mode() : d.mode() + " (" + d.reason() + ")",
                d.readBytes() >> 20, d.size() >> 20, d.reusedBytes() >> 20, d.uploadedChunks(), d.uploadedBytes() >> 20);
    }

    private static String seconds(double s) {
        return String.format("%.1f s", s);
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
