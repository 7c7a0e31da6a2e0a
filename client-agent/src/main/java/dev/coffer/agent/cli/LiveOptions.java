package dev.coffer.agent.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.restore.LiveRestore;
import dev.coffer.agent.restore.RestoreRun;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The {@code --live} options of {@code coffer restore} and the branch that runs them: kept apart
 * from {@link RestoreCommand} so the plain restore stays as it is. See {@link LiveRestore}.
 */
public final class LiveOptions {

    @Option(names = "--live", description = "Live restore into a new qcow2 (--to file:PATH): serve the restore point, create the "
            + "image with it as backing file, wait for QEMU (--qmp) to run the image, block-stream the rest while it runs.")
    boolean live;

    @Option(names = "--qmp", paramLabel = "PATH", description = "With --live: the QMP socket of the QEMU that runs (or will run) the image.")
    Path qmp;

    @Option(names = "--node", paramLabel = "NAME", description = "With --live: the image's block node (default: the qcow2 node whose file is the image).")
    String node;

    @Option(names = "--listen", paramLabel = "unix:PATH",
            description = "With --live: where to serve the restore point (default: unix:DIR/.IMAGE.nbd.sock next to the image).")
    String listen;

    @Option(names = "--rate", paramLabel = "BYTES", description = "With --live: limit the background copy to BYTES per second (K, M, G suffixes).")
    String rate;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "600",
            description = "With --live: how long to wait for QEMU to open the image (default: ${DEFAULT-VALUE}).")
    long waitSeconds;

    @Option(names = "--retry-for", paramLabel = "SECONDS", defaultValue = "300",
            description = "With --live: how long to retry a failing copy without progress before giving up (default: ${DEFAULT-VALUE}).")
    long retrySeconds;

    /** Runs the live restore of {@code one}; the JSON result follows "Machine-readable output" with the image added. */
    Integer run(CommandSpec spec, SnapshotId id, RestoreCommand.One one, StoreOptions store, KeyOptions key, boolean json)
            throws Exception {
        if (one == null) {
            throw new IllegalArgumentException("--live restores one disk: use --disk NAME --to file:PATH, not --all");
        }
        if (qmp == null) {
            throw new IllegalArgumentException("--live needs --qmp PATH, the QMP socket of the QEMU that runs the image");
        }
        if (!one.to.startsWith("file:")) {
            throw new IllegalArgumentException("--live writes a new local qcow2: --to file:PATH (got " + one.to + ")");
        }
        Path image = Sources.filePath(one.to);
        Path socket = null;
        if (listen != null) {
            if (!listen.startsWith("unix:") || listen.length() == 5) {
                throw new IllegalArgumentException("--listen with --live takes unix:PATH (QEMU reconnects to the same socket on a rerun)");
            }
            socket = Path.of(listen.substring(5));
        }
        LiveRestore.Options o = new LiveRestore.Options(image, qmp, node, socket, rate == null ? 0 : parseSize(rate),
                Duration.ofSeconds(waitSeconds), Duration.ofSeconds(retrySeconds));
        CryptConfig crypt = key.load();
        PrintWriter err = spec.commandLine().getErr();
        int fetchers = Math.max(4, Runtime.getRuntime().availableProcessors());
        LiveRestore.Result r;
        try (StoreClient client = store.connect(fetchers + 2)) {
            Manifest manifest = RestoreRun.manifest(client, id.path(), crypt);
            String disk = one.disk;
            if (disk == null) {
                if (manifest.disks().size() != 1) {
                    throw new IllegalArgumentException("restore point " + id + " has " + manifest.disks().size()
                            + " disks; choose one with --disk (" + String.join(", ", manifest.disks().stream().map(ManifestDisk::name).toList()) + ")");
                }
                disk = manifest.disks().getFirst().name();
            }
            LiveRestore restore = LiveRestore.prepare(client, id.path(), manifest, disk, crypt, o, fetchers, line -> {
                err.println("coffer: " + line);
                err.flush();
            });
            // SIGTERM or Ctrl-C: stop serving and release the lease; QEMU's job waits for the backing, then fails
            Thread hook = new Thread(restore::close, "coffer-live-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try (ProgressLine progress = new ProgressLine("live restore " + disk, restore.size())) {
                long[] shown = {0}; // QEMU reports how far the job got; the progress line counts increments
                r = restore.stream(done -> {
                    if (done > shown[0]) {
                        progress.accept(done - shown[0]);
                        shown[0] = done;
                    }
                });
            } finally {
                restore.close();
                Runtime.getRuntime().removeShutdownHook(hook);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode o2 = Wire.mapper().createObjectNode();
            o2.put("snapshot", id.path());
            ObjectNode d = o2.putArray("disks").addObject();
            d.put("name", r.disk());
            d.put("size", r.size());
            d.put("image", r.image().toString());
            d.put("node", r.node());
            d.put("stream_jobs", r.jobs());
            d.put("written_bytes", r.writtenBytes());
            d.put("zero_bytes", r.zeroBytes());
            o2.put("live", true);
            o2.put("duration_s", Math.round(r.durationS() * 1000) / 1000.0);
            out.println(o2);
        } else {
            out.printf("live restore of disk %s of %s into %s complete (node %s, %d stream job%s, %s served from the restore point, "
                    + "%s zero); it has no backing file now%n", r.disk(), id, r.image(), r.node(), r.jobs(), r.jobs() == 1 ? "" : "s",
                    ProgressLine.human(r.writtenBytes()), ProgressLine.human(r.zeroBytes()));
            out.printf("in %.1f s%n", r.durationS());
        }
        out.flush();
        return 0;
    }

    /** {@code 50M}, {@code 1G}, {@code 4096}: bytes (powers of 1024). */
    static long parseSize(String s) {
        String t = s.strip().toUpperCase(Locale.ROOT);
        long mul = 1;
        if (!t.isEmpty() && "KMGT".indexOf(t.charAt(t.length() - 1)) >= 0) {
            mul = 1L << (10 * ("KMGT".indexOf(t.charAt(t.length() - 1)) + 1));
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Long.parseLong(t);
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(v, mul);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("--rate " + s + ": expected a positive number of bytes, such as 50M");
        }
    }
}
