package dev.coffer.agent.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The local qcow2 of a live restore: an image whose backing file is the restore point served over
 * NBD, so QEMU can run from it at once and {@code block-stream} can fill it in the background.
 *
 * <p>The backing file is written as {@code json:{"driver":"raw","file":{"driver":"nbd","server":
 * {"type":"unix","path":SOCKET},"export":DISK,"reconnect-delay":N}}} with backing format raw. The
 * {@code reconnect-delay} matters: when the serving process goes away, QEMU 7.2 holds reads of the
 * backing for that many seconds while it reconnects, so a rerun of the live restore within the
 * window picks the running stream job up without the guest or the job seeing an error (measured
 * on the rig: serve killed mid-stream, back after 3 s, the job completed). Without it, every
 * backing read fails at once while the server is away.
 *
 * <p>{@code qemu-img} does the qcow2 work; the image is created under a temporary name and renamed,
 * so a QEMU waiting for the file never sees half of it.
 */
public final class LiveImage {

    /** Seconds QEMU waits for the NBD backing to come back before failing reads. */
    public static final int RECONNECT_DELAY_S = 15;

    private static final ObjectMapper JSON = new ObjectMapper();

    private LiveImage() {}

    /** The backing file name the image gets for the export {@code export} on unix socket {@code socket}. */
    public static String backing(Path socket, String export) {
        ObjectNode nbd = JSON.createObjectNode();
        nbd.put("driver", "nbd");
        ObjectNode server = nbd.putObject("server");
        server.put("type", "unix");
        server.put("path", socket.toAbsolutePath().toString());
        nbd.put("export", export);
        nbd.put("reconnect-delay", RECONNECT_DELAY_S);
        ObjectNode raw = JSON.createObjectNode();
        raw.put("driver", "raw");
        raw.set("file", nbd);
        return "json:" + raw;
    }

    /**
     * Creates {@code image} (qcow2, {@code size} bytes) with backing file {@code backing}, format raw.
     * The backing export must be reachable: qemu-img opens it.
     *
     * @throws IOException when qemu-img fails, with its message
     */
    public static void create(Path image, long size, String backing) throws IOException {
        Path tmp = image.resolveSibling("." + image.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            qemuImg("create", "-q", "-f", "qcow2", "-F", "raw", "-b", backing, tmp.toString(), Long.toString(size));
            Files.move(tmp, image, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * What {@code qemu-img info} says about an existing image (with {@code -U}: QEMU may have it
     * open; the header it reads is then the one on disk).
     *
     * @param format the image format
     * @param backing the backing file name, or null when it has none
     * @param virtualSize the image's size
     */
    public record Info(String format, String backing, long virtualSize) {
    }

    /** {@code qemu-img info -U} of {@code image}. */
    public static Info info(Path image) throws IOException {
        JsonNode j = JSON.readTree(qemuImg("info", "-U", "--output=json", image.toString()));
        JsonNode b = j.get("backing-filename");
        return new Info(j.path("format").asText(), b == null || b.isNull() ? null : b.asText(), j.path("virtual-size").asLong());
    }

    private static String qemuImg(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-img"));
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run qemu-img (Debian package qemu-utils): " + e.getMessage(), e);
        }
        try {
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("qemu-img " + args[0] + " did not finish within 60 s");
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IOException("qemu-img " + args[0] + " failed: " + text.strip());
            }
            return text;
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running qemu-img", e);
        }
    }
}
