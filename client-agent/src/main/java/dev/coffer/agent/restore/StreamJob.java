package dev.coffer.agent.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.qmp.BlockJob;
import dev.coffer.agent.qmp.QmpBlock;
import dev.coffer.agent.qmp.QmpClient;
import dev.coffer.agent.qmp.QmpEvent;
import dev.coffer.agent.qmp.QmpException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * One {@code block-stream} job over QMP: copies every block the node's backing chain holds into
 * the node itself, then QEMU drops the backing link (in the image header too). The guest keeps
 * running and writing meanwhile; QEMU only copies blocks the top image does not hold yet, so a
 * block the guest wrote keeps the guest's data, and a second job after a failed one copies only
 * what is still missing.
 *
 * <p>The job id is {@code coffer-live-NODE}: a rerun finds a job still running from an earlier,
 * killed run (QEMU kept it waiting for its backing to come back) and follows it instead of starting
 * another. Read errors end the job ({@code on-error} report); the node keeps its backing and stays
 * usable.
 */
final class StreamJob {

    /** How a job ended. */
    record Outcome(boolean completed, String error) {
    }

    private final QmpBlock qmp;
    private final String node;
    private final String id;

    StreamJob(QmpClient qmp, String node) {
        this.qmp = new QmpBlock(qmp);
        this.node = node;
        this.id = "coffer-live-" + node;
    }

    String id() {
        return id;
    }

    /** The running job of this node, if a job with our id exists. */
    Optional<BlockJob> running() throws QmpException {
        return qmp.queryBlockJobs().stream().filter(j -> j.id().equals(id)).findFirst();
    }

    /** Starts {@code block-stream} of the whole backing chain into the node; {@code speed} 0 is unlimited. */
    void start(long speed) throws QmpException {
        ObjectNode a = qmp.client().args();
        a.put("job-id", id);
        a.put("device", node);
        if (speed > 0) {
            a.put("speed", speed);
        }
        qmp.client().execute("block-stream", a);
    }

    /**
     * Waits for the job to end, reporting the bytes done ({@code offset}) every half second.
     *
     * @param progress gets the job's offset; its length is the node's size
     */
    Outcome await(LongConsumer progress) throws QmpException, InterruptedException {
        QmpClient c = qmp.client();
        while (true) {
            QmpEvent e = c.awaitEvent(ev -> id.equals(ev.jobId())
                    && (ev.name().equals("BLOCK_JOB_COMPLETED") || ev.name().equals("BLOCK_JOB_CANCELLED")), Duration.ofMillis(500));
            if (e != null) {
                if (e.name().equals("BLOCK_JOB_CANCELLED")) {
                    return new Outcome(false, "the job was cancelled");
                }
                String error = e.text("error");
                if (error == null) {
                    progress.accept(e.data().path("len").asLong());
                }
                return new Outcome(error == null, error);
            }
            Optional<BlockJob> j = running();
            if (j.isPresent()) {
                progress.accept(j.get().offset());
            } else {
                // gone without an event we saw (it ended between our query and subscription): the backing link tells
                return backing().isEmpty() ? new Outcome(true, null)
                        : new Outcome(false, "the job ended and the node still has a backing file");
            }
        }
    }

    /** The node's backing file as QEMU sees it now, empty when it has none. */
    Optional<String> backing() throws QmpException {
        for (JsonNode n : qmp.client().execute("query-named-block-nodes", qmp.client().args().put("flat", true))) {
            if (n.path("node-name").asText().equals(node)) {
                JsonNode b = n.get("backing_file");
                return b == null || b.isNull() ? Optional.empty() : Optional.of(b.asText());
            }
        }
        throw new QmpException("query-named-block-nodes", null, "block node '" + node + "' is gone");
    }
}
