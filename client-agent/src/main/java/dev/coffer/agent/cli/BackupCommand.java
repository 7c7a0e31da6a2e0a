package dev.coffer.agent.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.backup.BackupRun;
import dev.coffer.agent.backup.ChunkSource;
import dev.coffer.agent.backup.FileChunkSource;
import dev.coffer.agent.backup.NbdChunkSource;
import dev.coffer.agent.qmp.ResolvedDrive;
import dev.coffer.agent.vm.VmBackup;
import dev.coffer.agent.vm.VmBackupOptions;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.GroupId;
import dev.coffer.store.api.ApiTypes.DatastoreInfo;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code coffer backup GROUP --source [DISK=]URI…}: one restore point of all disks of one VM. */
@Command(name = "backup", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Backs up the disks of one VM (or other source) as one restore point of GROUP (type/id, e.g. vm/101).",
            "Only chunks whose digest differs from the previous restore point at the same position are uploaded; "
                + "holes and all-zero chunks cost nothing."})
public final class BackupCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "GROUP", description = "The group, type/id, such as vm/101.")
    String group;

    @Option(names = "--source", paramLabel = "[DISK=]URI", required = true,
            description = {"A disk: file:/path (image file or block device), nbd://host[:port]/export or "
                + "nbd+unix:///export?socket=/path (an NBD export someone else set up, e.g. libvirt pull mode), "
                + "or qmp:/path/to/qmp.sock (a running QEMU or qemu-storage-daemon; name its disks with --drive). "
                + "DISK names it (default drive0, drive1, …)."})
    List<String> sources = new ArrayList<>();

    @Option(names = "--bitmap", paramLabel = "[DISK=]NAME",
            description = {"The dirty bitmap the NBD export carries (qemu-nbd -B NAME; libvirt names it in the backup XML, "
                + "by default backup-<target>). Only chunks it marks dirty are read, after a sample of clean chunks "
                + "matched the previous restore point. Without DISK= it applies to every source, which must then all be NBD."})
    List<String> bitmaps = new ArrayList<>();

    @Option(names = "--nbd-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "Give up when an NBD source leaves a request unanswered this long (default: ${DEFAULT-VALUE}).")
    long nbdTimeout;

    @Option(names = "--drive", paramLabel = "NAME",
            description = {"For --source qmp:PATH: a drive to back up, by device id (QEMU) or block node name "
                + "(qemu-storage-daemon, or a QEMU node); it becomes the disk NAME of the restore point. Repeat for every disk of the VM."})
    List<String> drives = new ArrayList<>();

    @Option(names = "--scratch", paramLabel = "DIR",
            description = {"For qmp: where QEMU keeps the old data of blocks the guest overwrites during the backup "
                + "(default: the system temp directory). QEMU must be able to write there."})
    Path scratch;

    @Option(names = "--scratch-limit", paramLabel = "SIZE", converter = SizeConverter.class,
            description = {"For qmp: the most the scratch images may grow to (e.g. 20G); the backup is cancelled, never the guest's "
                + "writes, when they would outgrow it. Default: the drives' allocated bytes plus 1%% must be free."})
    Long scratchLimit;

    @Option(names = "--nbd-socket", paramLabel = "PATH",
            description = "For qmp: the unix socket of an NBD server the QEMU already runs (QMP cannot tell its address).")
    Path nbdSocket;

    @Option(names = "--nbd-address", paramLabel = "HOST:PORT",
            description = "For qmp: the address of an NBD server the QEMU already runs.")
    String nbdAddress;

    @Option(names = "--fsfreeze", description = "For qmp: have qemu-guest-agent flush and freeze the guest's filesystems "
            + "for the instant the drives are frozen (needs --qga-socket).")
    boolean fsfreeze;

    @Option(names = "--qga-socket", paramLabel = "PATH",
            description = "For --fsfreeze: the host-side unix socket of the VM's org.qemu.guest_agent.0 channel.")
    Path qgaSocket;

    @Option(names = "--config", paramLabel = "FILE", description = "Attach one of the VM's own config files (domain XML, QEMU command line).")
    List<Path> configFiles = new ArrayList<>();

    @Option(names = "--workers", paramLabel = "N", description = "Chunks hashed and uploaded in parallel (default: max(4, cores)).")
    Integer workers;

    @Option(names = "--json", description = "Print the result as JSON (DESIGN.md's coffer backup --json shape).")
    boolean json;

    @Mixin
    StoreOptions store;

    @Mixin
    KeyOptions key;

    @Override
    public Integer call() throws Exception {
        if (sources.stream().anyMatch(s -> s.startsWith("qmp:"))) {
            return callQmp();
        }
        if (!drives.isEmpty() || scratch != null || scratchLimit != null || nbdSocket != null || nbdAddress != null || fsfreeze
                || qgaSocket != null) {
            throw new IllegalArgumentException("--drive, --scratch, --scratch-limit, --nbd-socket, --nbd-address, --fsfreeze and "
                    + "--qga-socket go with --source qmp:PATH only");
        }
        List<String[]> named = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            String s = sources.get(i);
            int eq = s.indexOf('=');
            boolean hasName = eq > 0 && !s.substring(0, eq).contains(":") && !s.substring(0, eq).contains("/");
            named.add(new String[] {hasName ? s.substring(0, eq) : "drive" + i, hasName ? s.substring(eq + 1) : s});
        }
        List<Sources.Source> parsed = new ArrayList<>();
        for (String[] d : named) {
            parsed.add(Sources.source(d[1]));
        }
        Map<String, String> bitmapOf = bitmaps(named, parsed);
        GroupId g = GroupId.parse(store.ns(), group);
        checkConfigFiles();
        CryptConfig crypt = key.load();
        int n = workers != null ? workers : Math.max(4, Runtime.getRuntime().availableProcessors());
        try (StoreClient client = store.connect(n + 2)) {
            int chunkSize = chunkSize(client);
            List<BackupRun.DiskSpec> disks = new ArrayList<>();
            long total = 0;
            Path work = Files.createTempDirectory("coffer-backup-");
            try {
                for (int i = 0; i < named.size(); i++) {
                    String[] d = named.get(i);
                    Sources.Source s = parsed.get(i);
                    String bitmap = bitmapOf.get(d[0]);
                    ChunkSource src = s.nbd() != null ? NbdChunkSource.open(s.nbd(), bitmap, chunkSize, nbdTimeout())
                            : FileChunkSource.open(s.file(), chunkSize);
                    disks.add(new BackupRun.DiskSpec(d[0], src));
                    total += src.size();
                }
                BackupRun.Result r;
                try (ProgressLine progress = new ProgressLine("backup " + g, total)) {
                    r = BackupRun.run(client, g, Instant.now().truncatedTo(ChronoUnit.SECONDS), disks, configFiles, crypt, n, work,
                            "coffer " + version(), progress);
                }
                print(r);
            } finally {
                for (BackupRun.DiskSpec d : disks) {
                    d.source().close();
                }
                deleteTree(work);
            }
        }
        return 0;
    }

    /** {@code --source qmp:PATH --drive NAME…}: freeze the VM's drives and read them through QEMU's NBD exports. */
    private Integer callQmp() throws Exception {
        if (sources.size() != 1) {
            throw new IllegalArgumentException("a qmp: source is the whole VM: give it as the only --source, with one --drive per disk");
        }
        if (!bitmaps.isEmpty()) {
            throw new IllegalArgumentException("--bitmap is for NBD sources; with qmp: Coffer keeps its own checkpoint bitmaps");
        }
        String uri = sources.getFirst();
        Path socket = Path.of(uri.startsWith("qmp://") ? uri.substring("qmp://".length()) : uri.substring("qmp:".length()));
        VmBackupOptions options = new VmBackupOptions(socket, drives,
                scratch != null ? scratch : Path.of(System.getProperty("java.io.tmpdir")),
                scratchLimit == null ? 0 : scratchLimit, nbdSocket, nbdAddress, fsfreeze ? qgaSocket : null);
        if (fsfreeze != (qgaSocket != null)) {
            throw new IllegalArgumentException(fsfreeze ? "--fsfreeze needs --qga-socket PATH (the guest agent's channel)"
                    : "--qga-socket is used only with --fsfreeze");
        }
        GroupId g = GroupId.parse(store.ns(), group);
        checkConfigFiles();
        CryptConfig crypt = key.load();
        int n = workers != null ? workers : Math.max(4, Runtime.getRuntime().availableProcessors());
        BackupRun.Result r;
        VmBackup done;
        try (StoreClient client = store.connect(n + 2); VmBackup vm = VmBackup.connect(options)) {
            done = vm;
            for (String c : vm.cleanedUp()) {
                System.err.println("coffer: removed stale state of an earlier run: " + c);
            }
            long total = vm.drives().stream().mapToLong(ResolvedDrive::size).sum();
            Path work = Files.createTempDirectory("coffer-backup-");
            try (ProgressLine progress = new ProgressLine("backup " + g, total)) {
                r = BackupRun.run(client, g, Instant.now().truncatedTo(ChronoUnit.SECONDS), new BackupRun.Disks() {
                    @Override
                    public List<BackupRun.DiskSpec> open(BackupRun.Context ctx) throws IOException {
                        return vm.freeze(ctx, g);
                    }

                    @Override
                    public void beforeFinish() throws IOException {
                        vm.checkIntact();
                    }
                }, configFiles, crypt, n, work, "coffer " + version(), progress);
            } finally {
                deleteTree(work);
            }
        }
        // printed after the teardown, whose re-pointing of guest devices may pause the guest again
        print(r, done.guestPausedS());
        return 0;
    }

    private void checkConfigFiles() throws IOException {
        for (Path f : configFiles) {
            if (!Files.isRegularFile(f)) {
                throw new IOException("config file " + f + " does not exist or is not a regular file");
            }
        }
    }

    private static void deleteTree(Path work) throws IOException {
        try (var files = Files.list(work)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(work);
    }

    private java.time.Duration nbdTimeout() {
        if (nbdTimeout < 1) {
            throw new IllegalArgumentException("--nbd-timeout must be at least 1 second");
        }
        return java.time.Duration.ofSeconds(nbdTimeout);
    }

    /** Which disk gets which bitmap: {@code --bitmap DISK=NAME} for one, {@code --bitmap NAME} for every one. */
    private Map<String, String> bitmaps(List<String[]> named, List<Sources.Source> parsed) {
        Map<String, Sources.Source> byName = new LinkedHashMap<>();
        for (int i = 0; i < named.size(); i++) {
            byName.put(named.get(i)[0], parsed.get(i));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String b : bitmaps) {
            int eq = b.indexOf('=');
            List<String> to;
            String name;
            if (eq > 0 && byName.containsKey(b.substring(0, eq))) {
                to = List.of(b.substring(0, eq));
                name = b.substring(eq + 1);
            } else {
                to = List.copyOf(byName.keySet());
                name = b;
            }
            if (name.isEmpty()) {
                throw new IllegalArgumentException("--bitmap '" + b + "' names no bitmap");
            }
            for (String disk : to) {
                if (byName.get(disk).nbd() == null) {
                    throw new IllegalArgumentException("--bitmap applies to NBD sources only; disk " + disk + " is a file "
                            + "(files carry no dirty bitmap: they are read whole and compared with the previous restore point)"
                            + (to.size() > 1 ? "; name the NBD disk with --bitmap DISK=NAME" : ""));
                }
                if (out.put(disk, name) != null) {
                    throw new IllegalArgumentException("disk " + disk + " is given two bitmaps with --bitmap");
                }
            }
        }
        return out;
    }

    static int chunkSize(StoreClient client) throws IOException {
        DatastoreInfo[] all = Wire.parse(client.bytes(io.vertx.core.http.HttpMethod.GET, "/api/v1/datastores", null), DatastoreInfo[].class);
        for (DatastoreInfo d : all) {
            if (d.name().equals(client.endpoint().datastore())) {
                return d.chunkSize();
            }
        }
        throw new IOException("the store at " + client.endpoint().baseUri() + " has no datastore '" + client.endpoint().datastore()
                + "' this token may see");
    }

    private void print(BackupRun.Result r) {
        print(r, -1);
    }

    /** @param guestPausedS seconds a {@code qmp:} backup paused the guest, or negative for other sources */
    private void print(BackupRun.Result r, double guestPausedS) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode n = Wire.mapper().createObjectNode();
            n.put("snapshot", r.snapshot());
            n.put("duration_s", Math.round(r.durationS() * 1000) / 1000.0);
            if (guestPausedS >= 0) {
                n.put("guest_paused_s", Math.round(guestPausedS * 1e6) / 1e6);
            }
            ArrayNode disks = n.putArray("disks");
            for (BackupRun.DiskResult d : r.disks()) {
                disks.add(Wire.mapper().valueToTree(d));
            }
            out.println(n);
        } else {
            out.printf("restore point %s in %.1f s%n", r.snapshot(), r.durationS());
            if (guestPausedS > 0) {
                out.printf(java.util.Locale.ROOT, "  guest paused %.1f ms in all (freeze and teardown of its device drives)%n",
                        guestPausedS * 1000);
            }
            for (BackupRun.DiskResult d : r.disks()) {
                out.printf("  %s: %s, %s; read %s, reused %s, uploaded %d chunks (%s), zero %s%n", d.name(),
                        ProgressLine.human(d.size()), d.reason() == null ? d.mode() : d.mode() + " (" + d.reason() + ")",
                        ProgressLine.human(d.readBytes()),
                        ProgressLine.human(d.reusedBytes()), d.uploadedChunks(), ProgressLine.human(d.uploadedBytes()),
                        ProgressLine.human(d.zeroBytes()));
            }
        }
        out.flush();
    }

    static String version() {
        Package p = BackupCommand.class.getPackage();
        return p.getImplementationVersion() == null ? "dev" : p.getImplementationVersion();
    }
}
