package dev.coffer.agent.vm;

import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpException;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Keeps a full scratch from failing the guest. On QEMU 7.2 a {@code blockdev-backup sync=none}
 * whose scratch cannot grow fails the guest's write with ENOSPC and pauses the VM
 * (shared/nbd/PROTOCOL.md §5), so the agent must end the freeze first: before it starts, the
 * scratch filesystem must have room for what the drives hold now plus 1% (or {@code --scratch-limit});
 * while the backup runs, a thread checks every {@value #PERIOD_MS} ms and cancels every fleecing job
 * — breaking the backup, never the guest — when free space falls under {@link #floor}, when the
 * scratch files together outgrow {@code --scratch-limit}, or at once when QEMU reports a write
 * failing for lack of space.
 */
final class ScratchGuard implements AutoCloseable {

    static final long PERIOD_MS = 100;
    /** Free space under which the jobs are cancelled: 64 MiB, or 1% of the filesystem if larger. */
    static final long MIN_FLOOR = 64L << 20;

    private final QmpBlock qmp;
    private final FileStore store;
    private final List<Path> files;
    private final long limit;
    private final List<String> jobs;
    private final Consumer<String> onCancel;
    private final long floor;
    private final Thread thread;
    private volatile String cancelReason;
    private volatile boolean closed;
    private boolean cancelled;

    private ScratchGuard(QmpBlock qmp, FileStore store, List<Path> files, long limit, List<String> jobs, Consumer<String> onCancel)
            throws IOException {
        this.qmp = qmp;
        this.store = store;
        this.files = List.copyOf(files);
        this.limit = limit;
        this.jobs = List.copyOf(jobs);
        this.onCancel = onCancel;
        this.floor = floor(store.getTotalSpace());
        this.thread = Thread.ofPlatform().daemon().name("coffer-scratch-guard").start(this::loop);
    }

    static long floor(long totalSpace) {
        return Math.max(MIN_FLOOR, totalSpace / 100);
    }

    /**
     * Refuses to start when the scratch filesystem lacks {@code needed} bytes (plus the floor).
     *
     * @param explicit whether {@code needed} is the operator's {@code --scratch-limit}
     */
    static void checkRoom(Path scratchDir, long needed, boolean explicit) throws IOException {
        if (!Files.isDirectory(scratchDir)) {
            throw new IOException("the scratch directory " + scratchDir + " does not exist (--scratch DIR)");
        }
        FileStore fs = Files.getFileStore(scratchDir);
        long free = fs.getUsableSpace();
        long want = needed + floor(fs.getTotalSpace());
        if (free < want) {
            throw new IOException(String.format("the scratch directory %s has %d MiB free, but this backup may need %d MiB there "
                    + "(%s, plus %d MiB kept free): guest writes during the backup copy old data into the scratch; free space, "
                    + "give another --scratch DIR, or set --scratch-limit SIZE to what the guest writes during a backup",
                    scratchDir, free >> 20, want >> 20, explicit ? "--scratch-limit" : "the bytes the drives hold now plus 1%",
                    floor(fs.getTotalSpace()) >> 20));
        }
    }

    /** Starts watching. */
    static ScratchGuard start(QmpBlock qmp, Path scratchDir, List<Path> files, long limit, List<String> jobs,
            Consumer<String> onCancel) throws IOException {
        return new ScratchGuard(qmp, Files.getFileStore(scratchDir), files, limit, jobs, onCancel);
    }

    /** Asks the guard's thread to cancel the jobs (safe from QMP's event thread, which must not wait for replies). */
    void cancelSoon(String why) {
        if (cancelReason == null) {
            cancelReason = why;
        }
        LockSupport.unpark(thread); // never interrupt: it would close the QMP channel in the middle of a write
    }

    private void loop() {
        while (!closed && !cancelled) {
            try {
                String why = cancelReason;
                if (why == null) {
                    why = check();
                }
                if (why != null) {
                    cancel(why);
                    return;
                }
            } catch (IOException e) {
                cancel("cannot watch the scratch space: " + e.getMessage());
                return;
            }
            LockSupport.parkNanos(PERIOD_MS * 1_000_000L); // woken early by cancelSoon or close
        }
    }

    private String check() throws IOException {
        long free = store.getUsableSpace();
        if (free < floor) {
            return "the scratch filesystem is down to " + (free >> 20) + " MiB free (under " + (floor >> 20) + " MiB)";
        }
        if (limit > 0) {
            long used = 0;
            for (Path f : files) {
                if (Files.exists(f)) {
                    used += Files.size(f);
                }
            }
            if (used > limit) {
                return "the scratch images hold " + (used >> 20) + " MiB, over --scratch-limit " + (limit >> 20) + " MiB";
            }
        }
        return null;
    }

    private void cancel(String why) {
        cancelled = true;
        onCancel.accept(why + "; the fleecing jobs were cancelled so the guest's writes keep succeeding");
        for (String job : jobs) {
            try {
                qmp.jobCancel(job);
            } catch (QmpException e) {
                // already gone, or QEMU went away: the backup fails either way
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
