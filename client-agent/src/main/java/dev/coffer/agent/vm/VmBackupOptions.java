package dev.coffer.agent.vm;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What {@code coffer backup --source qmp:PATH} is told on the command line.
 *
 * @param qmpSocket the QEMU or qemu-storage-daemon monitor socket
 * @param drives the {@code --drive} names (device ids or node names), each one disk of the restore point
 * @param scratchDir where scratch images (and a private NBD socket) go; QEMU must be able to write there
 * @param scratchLimit bytes the scratch images may take in all, or 0 for "what the disks hold now plus 1%"
 * @param nbdSocket the unix socket of an NBD server QEMU already runs, or null
 * @param nbdAddress HOST:PORT of an NBD server QEMU already runs, or null
 * @param qgaSocket the guest agent's socket for {@code --fsfreeze}, or null not to freeze filesystems
 */
public record VmBackupOptions(Path qmpSocket, List<String> drives, Path scratchDir, long scratchLimit, Path nbdSocket,
        String nbdAddress, Path qgaSocket) {

    /** Without {@code --fsfreeze}. */
    public VmBackupOptions(Path qmpSocket, List<String> drives, Path scratchDir, long scratchLimit, Path nbdSocket,
            String nbdAddress) {
        this(qmpSocket, drives, scratchDir, scratchLimit, nbdSocket, nbdAddress, null);
    }

    public VmBackupOptions {
        Objects.requireNonNull(qmpSocket, "qmpSocket");
        drives = List.copyOf(drives);
        if (drives.isEmpty()) {
            throw new IllegalArgumentException("a qmp: source needs at least one --drive NAME (a device id or block node name)");
        }
        if (drives.stream().distinct().count() != drives.size()) {
            throw new IllegalArgumentException("a --drive is given twice: " + drives);
        }
        Objects.requireNonNull(scratchDir, "scratchDir");
        if (scratchLimit < 0) {
            throw new IllegalArgumentException("--scratch-limit must not be negative");
        }
        if (nbdSocket != null && nbdAddress != null) {
            throw new IllegalArgumentException("give --nbd-socket or --nbd-address, not both");
        }
    }
}
