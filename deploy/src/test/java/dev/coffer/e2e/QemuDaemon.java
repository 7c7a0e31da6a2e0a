package dev.coffer.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.qmp.QmpClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One qemu-storage-daemon for a test class, standing in for the VM's QEMU: no disk at start, two
 * QMP monitors ({@link #qmpSocket} for the program under test, {@link #testQmp} for the test, since
 * a monitor serves one client at a time) and an NBD server on {@link #nbdSocket} where the test
 * exports attached images writable, so it can write to them as a guest would. A child of the test
 * JVM, told to quit on close and killed if it does not; {@link #kill} crashes it, and {@link #start}
 * in the same directory brings a new one up at the same sockets.
 */
final class QemuDaemon implements AutoCloseable {

    final Path dir;
    final Path qmpSocket;
    final Path nbdSocket;
    private final Path testSocket;
    private final Process process;
    private QmpClient qmp;

    private QemuDaemon(Path dir, Process process) {
        this.dir = dir;
        this.process = process;
        this.qmpSocket = dir.resolve("qmp.sock");
        this.testSocket = dir.resolve("qmp-test.sock");
        this.nbdSocket = dir.resolve("nbd.sock");
    }

    /** Starts one in {@code dir}; socket files a killed one left there are removed first, so the wait below means something. */
    static QemuDaemon start(Path dir) throws Exception {
        Files.createDirectories(dir);
        for (String s : new String[] {"qmp.sock", "qmp-test.sock", "nbd.sock"}) {
            Files.deleteIfExists(dir.resolve(s));
        }
        Process p = new ProcessBuilder("qemu-storage-daemon",
                "--chardev", "socket,id=m0,path=" + dir.resolve("qmp.sock") + ",server=on,wait=off", "--monitor", "chardev=m0",
                "--chardev", "socket,id=m1,path=" + dir.resolve("qmp-test.sock") + ",server=on,wait=off", "--monitor", "chardev=m1",
                "--nbd-server", "addr.type=unix,addr.path=" + dir.resolve("nbd.sock"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("qsd.log").toFile()).start();
        QemuDaemon q = new QemuDaemon(dir, p);
        for (int i = 0; i < 200 && !(Files.exists(q.testSocket) && Files.exists(q.nbdSocket)); i++) {
            if (!p.isAlive()) {
                throw new IOException("qemu-storage-daemon exited: " + Files.readString(dir.resolve("qsd.log")));
            }
            Thread.sleep(25);
        }
        q.qmp = QmpClient.connect(q.testSocket);
        return q;
    }

    /** The test's own monitor. */
    QmpClient qmp() {
        return qmp;
    }

    /** Opens {@code image} (qcow2, with whatever backing file its header names) as node {@code node}, exported writable as {@code node}. */
    void attach(String node, Path image) throws Exception {
        ObjectNode a = qmp.args();
        a.put("driver", "qcow2");
        a.put("node-name", node);
        ObjectNode file = a.putObject("file");
        file.put("driver", "file");
        file.put("filename", image.toString());
        qmp.execute("blockdev-add", a);
        ObjectNode e = qmp.args();
        e.put("type", "nbd");
        e.put("id", "exp-" + node);
        e.put("node-name", node);
        e.put("name", node);
        e.put("writable", true);
        qmp.execute("block-export-add", e);
    }

    /** Closes the export and the node (QEMU flushes and closes the image). */
    void detach(String node) throws Exception {
        qmp.execute("block-export-del", qmp.args().put("id", "exp-" + node).put("mode", "hard"));
        for (int i = 0; i < 200 && exportExists("exp-" + node); i++) {
            Thread.sleep(25);
        }
        qmp.execute("blockdev-del", qmp.args().put("node-name", node));
    }

    private boolean exportExists(String id) throws Exception {
        for (JsonNode e : qmp.execute("query-block-exports")) {
            if (e.path("id").asText().equals(id)) {
                return true;
            }
        }
        return false;
    }

    /** The node as {@code query-named-block-nodes} shows it, or null. */
    JsonNode node(String name) throws Exception {
        for (JsonNode n : qmp.execute("query-named-block-nodes", qmp.args().put("flat", true))) {
            if (n.path("node-name").asText().equals(name)) {
                return n;
            }
        }
        return null;
    }

    /** The block job {@code id}, or null. */
    JsonNode job(String id) throws Exception {
        for (JsonNode j : qmp.execute("query-block-jobs")) {
            if (j.path("device").asText().equals(id)) {
                return j;
            }
        }
        return null;
    }

    /** The NBD URI of the writable export of {@code node}. */
    String uri(String node) {
        return "nbd+unix:///" + node + "?socket=" + nbdSocket;
    }

    String log() throws IOException {
        return Files.readString(dir.resolve("qsd.log"));
    }

    /** SIGKILL, as a crashing QEMU: no flush, no cleanup; its socket files stay behind. */
    void kill() throws Exception {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        qmp.close();
    }

    @Override
    public void close() throws Exception {
        try {
            if (qmp != null) {
                qmp.execute("quit");
            }
        } catch (Exception e) {
            // killed below
        } finally {
            if (qmp != null) {
                qmp.close();
            }
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
