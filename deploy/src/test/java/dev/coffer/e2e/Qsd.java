package dev.coffer.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A qemu-storage-daemon standing in for a VM, as shared/nbd/nbd-rig.sh runs one: one qcow2 format
 * node per drive (named like the drive), a QMP monitor, and an NBD server with a writable export of
 * each live drive through which the test writes as the guest would. Images persist across
 * {@link #stop} (QMP {@code quit}: bitmaps written) and {@link #kill} (SIGKILL: bitmaps come back
 * inconsistent) so {@link #start} brings the same "VM" back.
 */
final class Qsd {

    final Path dir;
    final Path qmp;
    final Path live;
    /** A second monitor, for the test to watch and disturb a backup that holds the first. */
    final Path qmp2;
    private final Map<String, Long> drives = new LinkedHashMap<>();
    private final Map<String, Long> readLimits = new LinkedHashMap<>();
    private Process process;

    Qsd(Path dir) {
        this.dir = dir;
        this.qmp = dir.resolve("qmp.sock");
        this.live = dir.resolve("live.sock");
        this.qmp2 = dir.resolve("qmp2.sock");
    }

    void create(String drive, long size) throws Exception {
        exec("qemu-img", "create", "-q", "-f", "qcow2", dir.resolve(drive + ".qcow2").toString(), Long.toString(size));
        drives.put(drive, size);
    }

    /**
     * A drive whose reads QEMU throttles to {@code bytesPerSecond} (a throttle filter node named like
     * the drive over its qcow2 node): a backup of it takes long enough for a test to act while it runs.
     */
    void createThrottled(String drive, long size, long bytesPerSecond) throws Exception {
        create(drive, size);
        readLimits.put(drive, bytesPerSecond);
    }

    void start() throws Exception {
        Files.deleteIfExists(qmp);
        Files.deleteIfExists(live);
        Files.deleteIfExists(qmp2);
        List<String> cmd = new ArrayList<>(List.of("qemu-storage-daemon"));
        for (String d : drives.keySet()) {
            Long limit = readLimits.get(d);
            String format = limit == null ? d : d + "-fmt";
            cmd.addAll(List.of("--blockdev", "driver=file,node-name=" + d + "-file,filename=" + dir.resolve(d + ".qcow2"),
                    "--blockdev", "driver=qcow2,node-name=" + format + ",file=" + d + "-file"));
            if (limit != null) {
                cmd.addAll(List.of("--object", "throttle-group,id=tg-" + d + ",x-bps-read=" + limit,
                        "--blockdev", "driver=throttle,node-name=" + d + ",throttle-group=tg-" + d + ",file=" + format));
            }
        }
        cmd.addAll(List.of("--nbd-server", "addr.type=unix,addr.path=" + live));
        for (String d : drives.keySet()) {
            cmd.addAll(List.of("--export", "type=nbd,id=live-" + d + ",node-name=" + d + ",name=" + d + ",writable=on"));
        }
        cmd.addAll(List.of("--chardev", "socket,id=qmp0,path=" + qmp + ",server=on,wait=off", "--monitor", "chardev=qmp0",
                "--chardev", "socket,id=qmp1,path=" + qmp2 + ",server=on,wait=off", "--monitor", "chardev=qmp1"));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(
                dir.resolve("qsd.log").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!(Files.exists(qmp) && Files.exists(live) && Files.exists(qmp2))) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("qemu-storage-daemon did not start: " + Files.readString(dir.resolve("qsd.log")));
            }
            Thread.sleep(20);
        }
    }

    /** Clean shutdown through QMP {@code quit}: persistent bitmaps are stored in the images. */
    void stop() throws Exception {
        if (process == null || !process.isAlive()) {
            return;
        }
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(qmp))) {
            InputStream in = Channels.newInputStream(ch);
            OutputStream out = Channels.newOutputStream(ch);
            readLine(in); // greeting
            out.write("{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("qemu-storage-daemon quit").isTrue();
        }
    }

    /** SIGKILL: no bitmap is written back, so they are inconsistent at the next start. */
    void kill() throws Exception {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    String uri(String drive) {
        return "nbd+unix:///" + drive + "?socket=" + live;
    }

    /** A guest write: {@code length} bytes of {@code pattern} at {@code offset}. */
    void write(String drive, long offset, int length, int pattern) throws Exception {
        exec("qemu-io", "-f", "raw", "-c", "write -P " + pattern + " " + offset + " " + length, uri(drive));
    }

    /** Fills a drive with random bytes (through a raw file: qemu-io has no random pattern). */
    void fillRandom(String drive, long size, Path scratch) throws Exception {
        Images.random(scratch, size, 42);
        exec("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", scratch.toString(), uri(drive));
        Files.delete(scratch);
    }

    /** SHA-256 of the drive's whole content as the guest sees it now. */
    String sha256(String drive) throws Exception {
        Path out = dir.resolve("sha-" + drive + ".raw");
        Files.deleteIfExists(out);
        exec("qemu-img", "convert", "-f", "raw", "-O", "raw", uri(drive), out.toString());
        try {
            return Images.sha256(out);
        } finally {
            Files.delete(out);
        }
    }

    private static void exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", String.join(" ", cmd), out).isZero();
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            b.append((char) c);
        }
        return b.toString();
    }
}
