package dev.coffer.agent.vm;

import dev.coffer.agent.backup.BackupRun;
import dev.coffer.agent.backup.ChunkSource;
import dev.coffer.agent.backup.NbdChunkSource;
import dev.coffer.agent.qga.QgaClient;
import dev.coffer.agent.qmp.BlockNode;
import dev.coffer.agent.qmp.CheckpointName;
import dev.coffer.agent.qmp.CheckpointPlan;
import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpClient;
import dev.coffer.agent.qmp.QmpEvent;
import dev.coffer.agent.qmp.QmpException;
import dev.coffer.agent.qmp.ResolvedDrive;
import dev.coffer.agent.qmp.Transaction;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * A backup of a running VM's drives through QMP (DESIGN "Backup flow" steps 2–7), for QEMU and
 * qemu-storage-daemon: resolve each drive to its format node, decide per drive whether the base's
 * checkpoint chain may be trusted ({@link CheckpointPlan}), then in one {@code transaction} across
 * every drive freeze a point-in-time view ({@code blockdev-backup sync=none} into a scratch qcow2
 * backed by the drive), add the next checkpoint, disable the previous one and merge the chain since
 * the base into a temporary disabled bitmap; export each view read-only over NBD with that bitmap
 * and hand the exports to the backup pipeline as {@link NbdChunkSource}s.
 *
 * <p>It holds the QMP connection for the whole backup (a monitor serves one client, so a second
 * agent sees "QMP socket busy"), which is also why anything carrying the {@value #TEMP_PREFIX}
 * prefix at connect time is stale — left by a killed run — and is removed. A {@link ScratchGuard}
 * cancels the fleecing jobs before the scratch filesystem fills: QEMU 7.2's {@code blockdev-backup}
 * would otherwise fail the guest's write. A job that ends early means the view is no longer
 * frozen, and {@link #checkIntact} then refuses to let the restore point be published.
 *
 * <p>{@link #close} removes every temporary export, job, node, bitmap and scratch file, and stops
 * an NBD server it started. The new checkpoint stays even when the backup fails: the next backup
 * merges every checkpoint since its base's.
 */
public final class VmBackup implements AutoCloseable {

    /** Every temporary QEMU object and scratch file this agent makes starts with it. */
    public static final String TEMP_PREFIX = "cofferx-";

    private static final Duration GONE_TIMEOUT = Duration.ofSeconds(30);

    private final VmBackupOptions options;
    private final QmpClient client;
    private final QmpBlock qmp;
    private final List<ResolvedDrive> drives;
    private final String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final List<FrozenDrive> frozen = new ArrayList<>();
    private final List<String> cleaned;
    private Path privateSocket;
    private boolean startedServer;
    private ScratchGuard guard;
    private volatile String broken;
    /** Time the guest's CPUs were stopped by this backup (the filter freeze and the teardown's re-point). */
    private long pausedNanos;
    private final Consumer<QmpEvent> listener = this::onEvent;
    private final QgaClient qga;

    private VmBackup(VmBackupOptions options, QmpClient client, List<ResolvedDrive> drives, List<String> cleaned, QgaClient qga) {
        this.qga = qga;
        this.options = options;
        this.client = client;
        this.qmp = new QmpBlock(client);
        this.drives = drives;
        this.cleaned = cleaned;
    }

    /**
     * Connects to the monitor, resolves every drive and removes what earlier, killed runs left.
     *
     * @throws QmpException when the socket is busy or gone, or a drive does not exist
     */
    public static VmBackup connect(VmBackupOptions options) throws IOException {
        QmpClient c = QmpClient.connect(options.qmpSocket());
        try {
            QmpBlock q = new QmpBlock(c);
            // first: a device a killed run left on its filter would resolve to the filter
            List<String> cleaned = new ArrayList<>(StaleState.remove(q, options.scratchDir(), TEMP_PREFIX, scratchFilePrefix(options)));
            StaleState.removeNbdServer(q, privateSocket(options)).ifPresent(cleaned::add);
            List<ResolvedDrive> drives = new ArrayList<>();
            for (String d : options.drives()) {
                drives.add(q.resolveDrive(d));
            }
            QgaClient qga = null;
            if (options.qgaSocket() != null) {
                qga = QgaClient.connect(options.qgaSocket(), QgaClient.DEFAULT_TIMEOUT);
                try {
                    if ("frozen".equals(qga.fsfreezeStatus())) {
                        qga.fsfreezeThaw(); // a killed run froze the guest and never thawed it
                        cleaned.add("frozen guest filesystems (thawed)");
                    }
                } catch (IOException | RuntimeException e) {
                    qga.close();
                    throw e;
                }
            }
            return new VmBackup(options, c, drives, cleaned, qga);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * Scratch files carry a hash of the QMP socket, so a run cleaning up after itself never touches
     * the scratch files of another VM's backup sharing the directory.
     */
    static String scratchFilePrefix(VmBackupOptions options) {
        return TEMP_PREFIX + StaleState.shortHash(options.qmpSocket().toAbsolutePath().toString()) + "-";
    }

    /**
     * The socket of the NBD server the agent starts when QEMU runs none: next to the QMP socket (QEMU
     * could create that one there, so it can create this), named after it, so the next run finds a
     * killed run's server whatever {@code --scratch} it is given.
     */
    static Path privateSocket(VmBackupOptions options) {
        Path qmpSocket = options.qmpSocket().toAbsolutePath();
        return qmpSocket.resolveSibling(TEMP_PREFIX + "nbd-" + StaleState.shortHash(qmpSocket.toString()) + ".sock");
    }

    /** The temporary objects of earlier runs that {@link #connect} removed (for the log). */
    /**
     * Seconds the guest's CPUs were paused by this backup so far, as the agent measured them from
     * sending {@code stop} to {@code cont} being answered: the freeze of guest-device drives, and
     * after {@link #close} also the teardown that points the devices back. 0 for drives frozen by a
     * fleecing job, which never pauses the guest.
     */
    public double guestPausedS() {
        return pausedNanos / 1e9;
    }

    public List<String> cleanedUp() {
        return cleaned;
    }

    /** The resolved drives, in {@code --drive} order. */
    public List<ResolvedDrive> drives() {
        return drives;
    }

    /**
     * Freezes every drive at one instant, starts the next checkpoint and exports the views; called by
     * {@link BackupRun} once the session told the datastore uuid and the base.
     */
    public List<BackupRun.DiskSpec> freeze(BackupRun.Context ctx, GroupId group) throws IOException {
        String groupKey = CheckpointName.groupKey(group.ns() == null ? "" : group.ns(), group.type(), group.id());
        Manifest base = ctx.base();
        boolean verifyFailed = base != null && base.unprotected().verify() == Manifest.VerifyState.FAILED;
        List<BlockNode> nodes = qmp.queryNamedBlockNodes(true);
        long needed = 0;
        for (int i = 0; i < drives.size(); i++) {
            ResolvedDrive d = drives.get(i);
            BlockNode node = nodes.stream().filter(n -> n.nodeName().equals(d.nodeName())).findFirst()
                    .orElseThrow(() -> new QmpException("freeze", null, "node " + d.nodeName() + " of drive " + d.name() + " is gone"));
            ManifestDisk baseDisk = base == null ? null
                    : base.disks().stream().filter(x -> x.name().equals(d.name())).findFirst().orElse(null);
            CheckpointPlan plan = CheckpointPlan.decide(node.namedBitmaps(), ctx.datastore(), groupKey, baseDisk, verifyFailed,
                    d.nodeName(), node.virtualSize());
            for (String stale : plan.remove()) {
                qmp.removeBitmap(d.nodeName(), stale);
            }
            Path file = options.scratchDir().resolve(scratchFilePrefix(options) + run + "-" + i + ".qcow2");
            FrozenDrive f = new FrozenDrive(d, plan, TEMP_PREFIX + run + "-" + i, file);
            frozen.add(f);
            if (!f.device()) {
                needed += qmp.allocatedBytes(d.nodeName()); // only the job path can hurt the guest when the scratch fills
            }
        }
        List<FrozenDrive> jobDrives = frozen.stream().filter(f -> !f.device()).toList();
        if (!jobDrives.isEmpty()) {
            long limit = options.scratchLimit() > 0 ? options.scratchLimit() : needed + needed / 100;
            ScratchGuard.checkRoom(options.scratchDir(), limit, options.scratchLimit() > 0);
        }
        for (FrozenDrive f : frozen) {
            f.createScratch(qmp);
        }
        Transaction t = new Transaction();
        for (FrozenDrive f : frozen) {
            f.addTo(t, persistent(f.drive));
        }
        client.addEventListener(listener);
        boolean anyDevice = frozen.stream().anyMatch(FrozenDrive::device);
        if (qga != null) {
            qga.fsfreezeFreeze(); // the guest flushes and freezes its filesystems: a clean instant
        }
        try {
            boolean stopped = anyDevice && qmp.running();
            long pausedAt = System.nanoTime();
            if (stopped) {
                qmp.stop(); // filters cannot join a transaction: a paused guest makes filters and checkpoints one instant
            }
            try {
                for (FrozenDrive f : frozen) {
                    if (f.device()) {
                        f.insertFilter(qmp);
                    }
                }
                qmp.transaction(t);
            } finally {
                if (stopped) {
                    qmp.cont();
                    pausedNanos += System.nanoTime() - pausedAt;
                }
            }
        } finally {
            if (qga != null) {
                qga.fsfreezeThaw();
            }
        }
        if (!jobDrives.isEmpty()) {
            guard = ScratchGuard.start(qmp, options.scratchDir(), jobDrives.stream().map(f -> f.scratchFile).toList(),
                    options.scratchLimit(), jobDrives.stream().map(FrozenDrive::job).toList(), this::markBroken);
        }
        NbdEndpoint endpoint = nbdServer();
        List<BackupRun.DiskSpec> out = new ArrayList<>();
        for (FrozenDrive f : frozen) {
            f.export(qmp);
            f.source = NbdChunkSource.open(endpoint.uri(f.export()), f.tempBitmap(), ctx.chunkSize());
            CheckpointPlan p = f.plan;
            ManifestDisk.Checkpoint cp = new ManifestDisk.Checkpoint(p.next().name(), p.next().seq(), f.drive.nodeName(),
                    f.drive.size(), granularityOf(f.drive.nodeName(), p.next().name()), f.device() ? "filter" : "job");
            ChunkSource src = f.device() ? new BreakableView(f.source, f.drive.name()) : f.source;
            out.add(new BackupRun.DiskSpec(f.drive.name(), src, cp, p.reason()));
        }
        return out;
    }

    /**
     * Fails when a view stopped being frozen (a fleecing job ended, the scratch guard cancelled it):
     * called before the restore point is published. A broken filter view fails its reads instead.
     */
    public void checkIntact() throws IOException {
        String b = broken;
        if (b == null) {
            var running = qmp.queryBlockJobs().stream().map(j -> j.id()).toList();
            for (FrozenDrive f : frozen) {
                if (!f.device() && !running.contains(f.job())) {
                    b = "the fleecing job " + f.job() + " of drive " + f.drive.name() + " is gone";
                }
            }
        }
        if (b != null) {
            throw new IOException("the point-in-time view is no longer frozen, so this backup cannot be published: " + b);
        }
    }

    private void markBroken(String why) {
        if (broken == null) {
            broken = why;
        }
    }

    private void onEvent(QmpEvent e) {
        switch (e.name()) {
            case "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED", "BLOCK_JOB_ERROR" -> {
                for (FrozenDrive f : frozen) {
                    if (f.job().equals(e.jobId())) {
                        markBroken("the fleecing job " + f.job() + " of drive " + f.drive.name() + " ended (" + e.name()
                                + (e.text("error") != null ? ": " + e.text("error") : "") + ")");
                    }
                }
            }
            case "BLOCK_IO_ERROR" -> {
                if (e.data().path("nospace").asBoolean(false) && guard != null) {
                    guard.cancelSoon("QEMU reported a write failing for lack of space on node " + e.text("node-name")
                            + " (scratch full?)");
                }
            }
            default -> { }
        }
    }

    private boolean persistent(ResolvedDrive d) {
        return "qcow2".equals(d.driver()); // raw, LVM, RBD cannot store bitmaps: checkpoints live until QEMU restarts
    }

    private long granularityOf(String node, String bitmap) throws QmpException {
        return qmp.bitmaps(node).stream().filter(b -> bitmap.equals(b.name())).findFirst()
                .orElseThrow(() -> new QmpException("freeze", null, "checkpoint " + bitmap + " is missing right after it was added"))
                .granularity();
    }

    /** The NBD server the views are exported on: QEMU's running one, or a private one started here. */
    private NbdEndpoint nbdServer() throws IOException {
        if (options.nbdSocket() != null) {
            return NbdEndpoint.unix(options.nbdSocket());
        }
        if (options.nbdAddress() != null) {
            return NbdEndpoint.tcp(options.nbdAddress());
        }
        Path socket = privateSocket(options);
        if (qmp.startNbdServerUnix(socket)) {
            startedServer = true;
            privateSocket = socket;
            return NbdEndpoint.unix(socket);
        }
        throw new IOException("QEMU already runs an NBD server and QMP cannot tell its address: give it with --nbd-socket PATH "
                + "or --nbd-address HOST:PORT");
    }

    /**
     * Tears everything down: NBD clients, exports, jobs, filters (the guest's devices back on their
     * own nodes), scratch nodes and files, temporary bitmaps, a private NBD server. Keeps going past
     * errors and reports them together at the end.
     */
    @Override
    public void close() throws IOException {
        List<String> errors = new ArrayList<>();
        if (guard != null) {
            guard.close();
        }
        for (FrozenDrive f : frozen) {
            if (f.source != null) {
                f.source.close();
            }
        }
        client.removeEventListener(listener);
        try {
            var exports = qmp.queryBlockExports().stream().map(e -> e.id()).toList();
            for (FrozenDrive f : frozen) {
                if (exports.contains(f.export())) {
                    step(errors, () -> {
                        qmp.deleteExport(f.export(), true);
                        qmp.awaitExportGone(f.export(), GONE_TIMEOUT);
                    });
                }
            }
            var jobs = qmp.queryBlockJobs().stream().map(j -> j.id()).toList();
            for (FrozenDrive f : frozen) {
                if (!f.device() && jobs.contains(f.job())) {
                    step(errors, () -> {
                        qmp.jobCancel(f.job());
                        qmp.awaitJobGone(f.job(), GONE_TIMEOUT);
                    });
                }
            }
            for (FrozenDrive f : frozen) {
                step(errors, () -> f.removeView(qmp));
            }
            if (frozen.stream().anyMatch(FrozenDrive::repointed)) {
                step(errors, () -> {
                    boolean stopped = qmp.running();
                    long pausedAt = System.nanoTime();
                    if (stopped) {
                        qmp.stop();
                    }
                    try {
                        for (FrozenDrive f : frozen) {
                            f.repointBack(qmp);
                        }
                    } finally {
                        if (stopped) {
                            qmp.cont();
                            pausedNanos += System.nanoTime() - pausedAt;
                        }
                    }
                });
            }
            for (FrozenDrive f : frozen) {
                step(errors, () -> f.removeNodes(qmp));
                if (f.tempBitmap() != null) {
                    step(errors, () -> {
                        if (qmp.bitmaps(f.drive.nodeName()).stream().anyMatch(b -> f.tempBitmap().equals(b.name()))) {
                            qmp.removeBitmap(f.drive.nodeName(), f.tempBitmap());
                        }
                    });
                }
                step(errors, () -> {
                    try {
                        Files.deleteIfExists(f.scratchFile);
                    } catch (IOException e) {
                        throw new QmpException("cannot delete scratch file " + f.scratchFile + ": " + e.getMessage(), e);
                    }
                });
            }
            if (startedServer) {
                step(errors, qmp::stopNbdServer);
                if (privateSocket != null) {
                    Files.deleteIfExists(privateSocket);
                }
            }
        } finally {
            client.close();
            if (qga != null) {
                qga.close();
            }
        }
        if (!errors.isEmpty()) {
            throw new IOException("teardown of the backup's temporary QEMU state was incomplete (the next backup removes "
                    + "what is left): " + String.join("; ", errors));
        }
    }

    /**
     * Drops the connection without tearing anything down, as a killed agent would: what it leaves is
     * for the next {@link #connect} to clean up. For tests of that cleanup.
     */
    void abandon() {
        if (guard != null) {
            guard.close();
        }
        for (FrozenDrive f : frozen) {
            if (f.source != null) {
                f.source.close();
            }
        }
        client.close();
        if (qga != null) {
            qga.close();
        }
    }

    private interface Step {
        void run() throws QmpException;
    }

    private static void step(List<String> errors, Step s) {
        try {
            s.run();
        } catch (QmpException e) {
            errors.add(e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "VmBackup[" + options.qmpSocket() + ", drives " + drives.stream().map(ResolvedDrive::name).toList()
                + ", run " + run.toLowerCase(Locale.ROOT) + "]";
    }
}
