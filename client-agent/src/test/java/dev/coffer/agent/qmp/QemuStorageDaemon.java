package dev.coffer.agent.qmp;

import static dev.coffer.agent.nbd.NbdServerProcess.cmd;
import static dev.coffer.agent.nbd.NbdServerProcess.run;

import dev.coffer.agent.nbd.NbdServerProcess;
import java.nio.file.Path;

/**
 * A qemu-storage-daemon for one test class, modelled on shared/nbd/nbd-rig.sh: a fresh qcow2
 * (format node {@value #NODE} over file node {@value #FILE_NODE}) and a QMP monitor on a unix
 * socket, no NBD server (the tests start it over QMP). A child of the test JVM, SIGTERMed on close
 * (qsd writes persistent bitmaps into the image then).
 */
final class QemuStorageDaemon implements AutoCloseable {

    static final String NODE = "disk0";
    static final String FILE_NODE = "disk0-file";

    final Path dir;
    final Path image;
    final Path qmpSocket;
    final long size;
    private final NbdServerProcess process;

    private QemuStorageDaemon(Path dir, Path image, Path qmpSocket, long size, NbdServerProcess process) {
        this.dir = dir;
        this.image = image;
        this.qmpSocket = qmpSocket;
        this.size = size;
        this.process = process;
    }

    static QemuStorageDaemon start(Path dir, long size) throws Exception {
        Path image = dir.resolve("disk.qcow2");
        Path qmp = dir.resolve("qmp.sock");
        run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(size));
        // the readiness probe connects once and closes: the monitor then serves the next client
        NbdServerProcess p = NbdServerProcess.onSocket(dir, "qemu-storage-daemon", qmp, cmd("qemu-storage-daemon",
                "--blockdev", "driver=file,node-name=" + FILE_NODE + ",filename=" + image + ",discard=unmap",
                "--blockdev", "driver=qcow2,node-name=" + NODE + ",file=" + FILE_NODE + ",discard=unmap",
                "--chardev", "socket,id=qmp0,path=" + qmp + ",server=on,wait=off",
                "--monitor", "chardev=qmp0"));
        return new QemuStorageDaemon(dir, image, qmp, size, p);
    }

    String log() {
        return process.log();
    }

    @Override
    public void close() throws Exception {
        process.close();
    }
}
