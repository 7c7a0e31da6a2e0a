package dev.coffer.agent.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpClient;
import dev.coffer.agent.qmp.QmpException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The scratch qcow2 a point-in-time view keeps old data in while the guest writes: created by QEMU
 * itself ({@code blockdev-create}), so the file belongs to the user QEMU runs as and no
 * {@code qemu-img} is needed on the agent's side, then opened as a qcow2 node backed by the live
 * drive node — reads of blocks the guest has not overwritten fall through to the drive.
 *
 * <p>Two nodes: {@code <base>-f} (the file) and {@code <base>} (the qcow2). {@link #remove} takes
 * them away in the reverse order; the file itself is deleted by the caller.
 */
final class ScratchImage {

    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(60);

    private ScratchImage() {}

    /** The file node's name for a scratch qcow2 node {@code node}. */
    static String fileNode(String node) {
        return node + "-f";
    }

    /**
     * Creates {@code file} ({@code size} bytes of virtual disk) and adds node {@code node} over it
     * with {@code backing} as its backing node (null: none).
     */
    static void create(QmpBlock qmp, Path file, String node, long size, String backing, String jobBase) throws QmpException {
        QmpClient c = qmp.client();
        ObjectNode fileOpts = c.args();
        fileOpts.put("driver", "file");
        fileOpts.put("filename", file.toString());
        fileOpts.put("size", 0);
        runCreateJob(c, jobBase + "-cf", fileOpts);
        ObjectNode fileNode = c.args();
        fileNode.put("driver", "file");
        fileNode.put("node-name", fileNode(node));
        fileNode.put("filename", file.toString());
        qmp.blockdevAdd(fileNode);
        try {
            ObjectNode qcowOpts = c.args();
            qcowOpts.put("driver", "qcow2");
            qcowOpts.put("file", fileNode(node));
            qcowOpts.put("size", size);
            runCreateJob(c, jobBase + "-cq", qcowOpts);
            ObjectNode qcow = c.args();
            qcow.put("driver", "qcow2");
            qcow.put("node-name", node);
            qcow.put("file", fileNode(node));
            if (backing != null) {
                qcow.put("backing", backing);
            }
            qcow.put("discard", "unmap");
            qmp.blockdevAdd(qcow);
        } catch (QmpException e) {
            try {
                qmp.blockdevDel(fileNode(node));
            } catch (QmpException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Deletes the qcow2 node and its file node (each only if present). */
    static void remove(QmpBlock qmp, String node) throws QmpException {
        if (qmp.node(node).isPresent()) {
            qmp.blockdevDel(node);
        }
        if (qmp.node(fileNode(node)).isPresent()) {
            qmp.blockdevDel(fileNode(node));
        }
    }

    /** {@code blockdev-create} as a job: waits until it concludes, reports its error, dismisses it. */
    private static void runCreateJob(QmpClient c, String jobId, ObjectNode options) throws QmpException {
        ObjectNode a = c.args();
        a.put("job-id", jobId);
        a.set("options", options);
        c.execute("blockdev-create", a);
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (true) {
            JsonNode job = null;
            for (JsonNode j : c.execute("query-jobs")) {
                if (jobId.equals(j.path("id").asText())) {
                    job = j;
                }
            }
            if (job == null) {
                throw new QmpException("blockdev-create", null, "job " + jobId + " vanished before it concluded");
            }
            if ("concluded".equals(job.path("status").asText())) {
                ObjectNode d = c.args();
                d.put("id", jobId);
                c.execute("job-dismiss", d);
                if (job.hasNonNull("error")) {
                    throw new QmpException("blockdev-create", null, "creating " + options.path("driver").asText() + " "
                            + options.path("filename").asText(options.path("file").asText()) + ": " + job.get("error").asText());
                }
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new QmpException("blockdev-create", null, "job " + jobId + " did not conclude within "
                        + JOB_TIMEOUT.toSeconds() + " s");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QmpException("interrupted waiting for job " + jobId, e);
            }
        }
    }
}
