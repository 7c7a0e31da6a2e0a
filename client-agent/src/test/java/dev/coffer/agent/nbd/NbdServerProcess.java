package dev.coffer.agent.nbd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real NBD server for a test class: qemu-nbd or nbdkit started in the foreground as a child of
 * the test JVM, its output in a log file under the test's directory, killed by pid when the class
 * is done (and by a shutdown hook should the JVM die first). Modelled on shared/nbd/nbd-rig.sh. The
 * tools come from Debian packages that scripts/test installs; a missing tool fails the test rather
 * than skipping it.
 */
public final class NbdServerProcess implements AutoCloseable {

    private final String name;
    private final Process process;
    private final Path log;
    private final Thread hook;

    private NbdServerProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.hook = new Thread(process::destroyForcibly);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts {@code command} and waits until {@code socket} accepts connections. */
    public static NbdServerProcess onSocket(Path dir, String name, Path socket, List<String> command) throws Exception {
        NbdServerProcess p = start(dir, name, command);
        p.awaitReady(() -> {
            if (!Files.exists(socket)) {
                return false;
            }
            try (var ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket))) {
                return true;
            }
        });
        return p;
    }

    /** Starts {@code command} and waits until 127.0.0.1:{@code port} accepts connections. */
    public static NbdServerProcess onPort(Path dir, String name, int port, List<String> command) throws Exception {
        NbdServerProcess p = start(dir, name, command);
        p.awaitReady(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            }
        });
        return p;
    }

    /** A TCP port that was free a moment ago (the server binds it right after). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static NbdServerProcess start(Path dir, String name, List<String> command) throws IOException {
        Path log = dir.resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        return new NbdServerProcess(name, process, log);
    }

    private interface Probe {
        boolean ready() throws IOException;
    }

    private void awaitReady(Probe probe) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + ": " + log());
            }
            try {
                if (probe.ready()) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(20);
        }
        close();
        throw new IllegalStateException(name + " did not start listening within 10 s: " + log());
    }

    /** SIGKILL, as a crashed server would go. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }

    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** SIGTERM, then SIGKILL after 5 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down; the hook runs anyway
        }
    }

    /** Runs a short tool (qemu-img, qemu-io, nbdinfo) and returns its output; fails on a non-zero exit. */
    public static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish within 60 s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue() + ": " + out);
        }
        return out;
    }

    public static List<String> cmd(String... parts) {
        return new ArrayList<>(List.of(parts));
    }
}
