package dev.coffer.cli;

import dev.coffer.agent.nbd.NbdClient;
import dev.coffer.agent.nbd.NbdUri;
import dev.coffer.agent.qmp.QmpClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The quickstart's "VM" when QEMU is installed: the demo disk as a qcow2 in a
 * qemu-storage-daemon, with a QMP monitor for Coffer and a writable NBD export through which the
 * quickstart writes as a guest would. It is stopped with QMP {@code quit}, which stores the
 * checkpoint bitmaps in the image, so the next quickstart's first backup is already incremental.
 */
final class DemoVm implements AutoCloseable {

    /** The drive (node) name, and so the disk's name in the restore points. */
    static final String DRIVE = "vda";

    final Path qmp;
    final Path live;
    final Path scratch;
    private final Path sockets;
    private final Process process;

    private DemoVm(Path sockets, Path scratch, Process process) {
        this.sockets = sockets;
        this.qmp = sockets.resolve("qmp.sock");
        this.live = sockets.resolve("live.sock");
        this.scratch = scratch;
        this.process = process;
    }

    /** True when qemu-storage-daemon and qemu-img are on the PATH. */
    static boolean available() {
        return onPath("qemu-storage-daemon") && onPath("qemu-img");
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Starts the VM on {@code image}, creating the qcow2 from {@code raw} the first time. Sockets go
     * to a short temporary directory (unix socket paths are limited to 107 bytes).
     */
    static DemoVm start(Path image, Path raw, Path scratch) throws IOException, InterruptedException {
        if (!Files.exists(image)) {
            exec("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), image.toString());
        }
        Files.createDirectories(scratch);
        Path sockets = Files.createTempDirectory("coffer-qs-");
        Path log = sockets.resolve("qsd.log");
        Process p = new ProcessBuilder("qemu-storage-daemon",
                "--blockdev", "driver=file,node-name=" + DRIVE + "-file,filename=" + image,
                "--blockdev", "driver=qcow2,node-name=" + DRIVE + ",file=" + DRIVE + "-file",
                "--nbd-server", "addr.type=unix,addr.path=" + sockets.resolve("live.sock"),
                "--export", "type=nbd,id=live,node-name=" + DRIVE + ",name=live,writable=on",
                "--chardev", "socket,id=qmp0,path=" + sockets.resolve("qmp.sock") + ",server=on,wait=off",
                "--monitor", "chardev=qmp0").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        DemoVm vm = new DemoVm(sockets, scratch, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!(Files.exists(vm.qmp) && Files.exists(vm.live))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String why = Files.readString(log);
                vm.close();
                throw new IOException("qemu-storage-daemon did not start: " + why.strip());
            }
            Thread.sleep(20);
        }
        return vm;
    }

    private NbdClient connectLive() throws IOException {
        return NbdClient.connect(NbdUri.unix(live, "live"));
    }

    /** What a guest does between two backups: a few scattered writes, through QEMU. */
    void change(long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] b = new byte[64 << 10];
        try (NbdClient c = connectLive()) {
            for (long off : new long[] {9L << 20, 70L << 20, 200L << 20}) {
                r.nextBytes(b);
                c.write(off, b, 0, b.length);
            }
            c.flush();
        }
    }

    /** SHA-256 of the disk as the guest sees it now. */
    String sha256() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (NbdClient c = connectLive()) {
            long size = c.info().size();
            byte[] buf = new byte[1 << 20];
            for (long off = 0; off < size; off += buf.length) {
                int n = (int) Math.min(buf.length, size - off);
                c.read(off, buf, 0, n);
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** QMP {@code quit}: the checkpoints are written into the qcow2. Falls back to SIGTERM. */
    @Override
    public void close() throws IOException {
        if (process.isAlive()) {
            try (QmpClient c = QmpClient.connect(qmp)) {
                c.execute("quit");
            } catch (IOException | RuntimeException e) {
                process.destroy();
            }
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        try (var files = Files.list(sockets)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(sockets);
    }

    private static void exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", List.of(cmd)) + " failed: " + out.strip());
        }
    }
}
