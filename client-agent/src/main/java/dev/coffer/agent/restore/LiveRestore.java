package dev.coffer.agent.restore;

import dev.coffer.agent.qmp.QmpClient;
import dev.coffer.agent.qmp.QmpException;
import dev.coffer.agent.serve.ServedDisk;
import dev.coffer.chunker.AtomicFiles;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.store.api.StoreClient;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Live restore: a VM runs from a new local qcow2 at once while the rest of its disk is copied in
 * behind it, then the image is complete and stands alone.
 *
 * <ol>
 *   <li>{@link #prepare}: serve the restore point's disk over NBD on a unix socket (reader lease,
 *       chunk cache, as {@code coffer serve}) and create the qcow2 with that export as its backing
 *       file ({@link LiveImage}). A rerun finds its own image and serves at the same socket.</li>
 *   <li>The operator starts QEMU with the image (or it already runs with it).</li>
 *   <li>{@link #stream}: wait for QEMU's QMP monitor and the image's block node, run
 *       {@code block-stream} on it ({@link StreamJob}) while the guest runs, and retry a failed job
 *       until {@code retryFor} passes without progress.</li>
 *   <li>When QEMU reports the backing link gone, {@link #close} stops serving and releases the lease.</li>
 * </ol>
 *
 * <p>If this process or the store dies mid-stream, QEMU's job fails (after the backing's
 * reconnect delay), blocks already copied stay in the image, the image keeps its backing and stays
 * usable while something serves it; running the same restore again finishes it. If QEMU dies, this
 * process fails at once (there is nothing left to stream into) and stops serving; the image keeps
 * its backing, and QEMU started again on it plus the same restore finish it.
 */
public final class LiveRestore implements AutoCloseable {

    /**
     * What the live restore does.
     *
     * @param image the new local qcow2
     * @param qmpSocket the QMP monitor of the QEMU that runs (or will run) the image
     * @param node the image's block node name, or null to find the qcow2 node whose file is {@code image}
     * @param socket the NBD socket to serve at, or null for {@link #defaultSocket}
     * @param speed block-stream rate limit in bytes/s, 0 for none
     * @param waitForQemu how long to wait for QEMU and the node to appear
     * @param retryFor how long failed jobs are retried without progress before giving up
     */
    public record Options(Path image, Path qmpSocket, String node, Path socket, long speed, Duration waitForQemu,
            Duration retryFor) {
    }

    /**
     * A finished live restore.
     *
     * @param jobs block-stream jobs this run started (0 when it followed one an earlier run left running)
     * @param writtenBytes bytes of the disk's data this run served to QEMU: what block-stream copied into
     *     the image, plus any reads the guest made of blocks not copied yet (the backing answers those too)
     * @param zeroBytes bytes of the restore point's zero chunks, served as holes: nothing to copy
     */
    public record Result(String snapshot, String disk, Path image, String node, long size, int jobs, long writtenBytes,
            long zeroBytes, double durationS) {
    }

    private static final int MAX_UNIX_PATH = 107;

    private final String snapshot;
    private final String disk;
    private final Options options;
    private final Path socket;
    private final ServedDisk served;
    private final Consumer<String> log;
    private final long started = System.nanoTime();

    private LiveRestore(String snapshot, String disk, Options options, Path socket, ServedDisk served, Consumer<String> log) {
        this.snapshot = snapshot;
        this.disk = disk;
        this.options = options;
        this.socket = socket;
        this.served = served;
        this.log = log;
    }

    /** {@code DIR/.IMAGE.coffer-live}: the restore point an unfinished live restore into IMAGE was started from. */
    public static Path marker(Path image) {
        return image.toAbsolutePath().resolveSibling("." + image.getFileName() + ".coffer-live");
    }

    /** {@code DIR/.IMAGE.nbd.sock}: a rerun for the same image serves where the image's backing points. */
    public static Path defaultSocket(Path image) {
        return image.toAbsolutePath().resolveSibling("." + image.getFileName() + ".nbd.sock");
    }

    /**
     * Serves disk {@code disk} of {@code snapshot} and creates the image, or checks that an existing
     * image is this restore's (a rerun).
     *
     * @throws IllegalArgumentException when the image exists and is something else, or the socket
     *     path is too long for a unix socket
     * @throws IOException when serving or qemu-img fails; nothing is left serving then
     */
    public static LiveRestore prepare(StoreClient client, String snapshot, Manifest manifest, String disk, CryptConfig crypt,
            Options o, int fetchers, Consumer<String> log) throws IOException {
        Path image = o.image().toAbsolutePath();
        Path socket = (o.socket() != null ? o.socket() : defaultSocket(image)).toAbsolutePath();
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_UNIX_PATH) {
            throw new IllegalArgumentException("NBD socket path " + socket + " is longer than a unix socket allows ("
                    + MAX_UNIX_PATH + " bytes); choose a shorter one with --listen unix:PATH");
        }
        ManifestDisk d = manifest.disks().stream().filter(x -> x.name().equals(disk)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("restore point " + snapshot + " has no disk '" + disk + "'"));
        String backing = LiveImage.backing(socket, disk);
        if (Files.exists(image)) {
            LiveImage.Info info = LiveImage.info(image);
            if ("qcow2".equals(info.format()) && info.backing() == null && Files.notExists(marker(image))) {
                throw new IllegalArgumentException(image + " exists and has no backing file: a finished live restore, or "
                        + "another disk; nothing to do (choose a new file to restore again)");
            }
            if (!"qcow2".equals(info.format()) || !backing.equals(info.backing()) || info.virtualSize() != d.size()) {
                throw new IllegalArgumentException(image + " exists and is not the unfinished live restore of disk " + disk
                        + " of " + snapshot + " at socket " + socket + " (backing: " + info.backing()
                        + "); choose a new file, or remove it if nothing uses it");
            }
            // the backing names socket and disk, not the restore point: finishing with another one would mix two disks' data
            Path marker = marker(image);
            String started = Files.exists(marker) ? Files.readString(marker, StandardCharsets.UTF_8).strip() : null;
            if (!snapshot.equals(started)) {
                throw new IllegalArgumentException(image + " is an unfinished live restore of "
                        + (started != null ? "restore point " + started : "an unknown restore point (" + marker + " is missing)")
                        + ", not of " + snapshot + "; rerun it with that restore point, or start over with a new file");
            }
            log.accept("continuing the live restore into " + image + " (its backing file is still the restore point)");
        } else if (Files.exists(image.getParent()) && !Files.isDirectory(image.getParent())) {
            throw new IllegalArgumentException(image.getParent() + " is not a directory");
        }
        ServedDisk served = ServedDisk.open(client, snapshot, manifest, disk, crypt, UnixDomainSocketAddress.of(socket), fetchers, 0);
        try {
            if (!Files.exists(image)) {
                AtomicFiles.replace(marker(image), (snapshot + "\n").getBytes(StandardCharsets.UTF_8));
                LiveImage.create(image, d.size(), backing);
                log.accept("created " + image + " (qcow2, backing file: the restore point served at " + served.uri() + ")");
            }
            return new LiveRestore(snapshot, disk, o, socket, served, log);
        } catch (IOException | RuntimeException e) {
            served.close();
            throw e;
        }
    }

    /** The NBD URI the restore point is served at. */
    public String uri() throws IOException {
        return served.uri();
    }

    /**
     * Waits for QEMU and the image's node, streams, and returns once the image stands alone.
     *
     * @param progress bytes of the disk copied so far (as QEMU counts them)
     * @throws IOException when QEMU does not show up in time, jobs keep failing for {@code retryFor},
     *     or QEMU goes away (its QMP connection breaks); the image keeps its backing then and a rerun
     *     continues (with QEMU started again on the image)
     */
    public Result stream(LongConsumer progress) throws IOException, InterruptedException {
        log.accept("waiting for QEMU with " + options.image().toAbsolutePath() + " open on QMP " + options.qmpSocket());
        long deadline = System.nanoTime() + options.waitForQemu().toNanos();
        QmpClient qmp = null;
        try {
            qmp = connect(deadline);
            String node = findNode(qmp, deadline);
            StreamJob job = new StreamJob(qmp, node);
            int jobs = 0;
            long lastProgress = System.nanoTime();
            long backoffMs = 1000;
            // the furthest offset any job reached: a retried job races through the blocks already copied, which is not progress
            long[] furthest = {0};
            while (job.backing().isPresent()) {
                if (job.running().isPresent()) {
                    log.accept("following block-stream job " + job.id() + " already running on node " + node);
                } else {
                    job.start(options.speed());
                    jobs++;
                    log.accept("block-stream job " + job.id() + " started on node " + node);
                }
                long before = furthest[0];
                StreamJob.Outcome out = job.await(done -> {
                    progress.accept(done);
                    furthest[0] = Math.max(furthest[0], done);
                });
                if (out.completed()) {
                    break;
                }
                if (furthest[0] > before) {
                    lastProgress = System.nanoTime();
                    backoffMs = 1000;
                }
                if (System.nanoTime() - lastProgress > options.retryFor().toNanos()) {
                    throw new IOException("block-stream of node " + node + " failed (" + out.error() + ") and made no progress for "
                            + options.retryFor().toSeconds() + " s; " + options.image() + " keeps the restore point as its "
                            + "backing file and the blocks copied so far: run the same live restore again to finish it");
                }
                log.accept("block-stream job " + job.id() + " failed: " + out.error() + "; retrying in " + backoffMs / 1000 + " s");
                Thread.sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 15_000);
            }
            if (job.backing().isPresent()) {
                throw new IOException("block-stream of node " + node + " ended but the node still has a backing file");
            }
            Files.deleteIfExists(marker(options.image().toAbsolutePath()));
            log.accept(options.image().toAbsolutePath() + " is complete and has no backing file; stopping the NBD server");
            return new Result(snapshot, disk, options.image().toAbsolutePath(), node, served.size(), jobs,
                    served.dataBytesServed(), served.zeroBytes(), (System.nanoTime() - started) / 1e9);
        } catch (QmpException e) {
            throw qmp != null && !qmp.isOpen() ? qemuGone(e) : e;
        } finally {
            if (qmp != null) {
                qmp.close();
            }
            close();
        }
    }

    /** QEMU died or closed its monitor: nothing is left to stream into, so this run ends (and stops serving) now. */
    private IOException qemuGone(QmpException e) {
        return new IOException("QEMU is gone: its QMP connection broke during the live restore into "
                + options.image().toAbsolutePath() + " (" + e.getMessage() + "); stopped serving the restore point. "
                + "The image keeps it as its backing file: start QEMU again with the image and run the same live "
                + "restore again to finish it", e);
    }

    private QmpClient connect(long deadline) throws IOException, InterruptedException {
        while (true) {
            try {
                return QmpClient.connect(options.qmpSocket());
            } catch (QmpException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("no QEMU answered on QMP socket " + options.qmpSocket() + " within "
                            + options.waitForQemu().toSeconds() + " s: " + e.getMessage()
                            + "; the image keeps its backing file, run the same live restore again to continue", e);
                }
                Thread.sleep(500);
            }
        }
    }

    private String findNode(QmpClient qmp, long deadline) throws IOException, InterruptedException {
        Path image = options.image().toAbsolutePath().normalize();
        while (true) {
            for (var n : qmp.execute("query-named-block-nodes", qmp.args().put("flat", true))) {
                String name = n.path("node-name").asText();
                boolean match = options.node() != null ? name.equals(options.node())
                        : n.path("drv").asText().equals("qcow2") && sameFile(image, n.path("file").asText());
                if (match) {
                    return name;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("QEMU at " + options.qmpSocket() + " has no block node "
                        + (options.node() != null ? "named " + options.node() : "with " + image + " open")
                        + " after " + options.waitForQemu().toSeconds() + " s; start it with the image, or name the node with --node");
            }
            Thread.sleep(500);
        }
    }

    private static boolean sameFile(Path image, String file) {
        if (file.isEmpty() || file.startsWith("json:")) {
            return false;
        }
        try {
            Path p = Path.of(file).toAbsolutePath().normalize();
            return p.equals(image) || (Files.exists(p) && Files.isSameFile(p, image));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Stops serving and releases the reader lease (idempotent; safe from a shutdown hook). */
    @Override
    public void close() {
        served.close();
    }

    /** The disk's size in bytes. */
    public long size() {
        return served.size();
    }

    /** The socket this restore serves at. */
    public Path socket() {
        return socket;
    }
}
