package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.time.Instant;

/**
 * An asynchronous QMP event such as {@code BLOCK_JOB_COMPLETED}, {@code BLOCK_JOB_CANCELLED},
 * {@code BLOCK_JOB_ERROR}, {@code JOB_STATUS_CHANGE}, {@code BLOCK_IO_ERROR} or
 * {@code BLOCK_EXPORT_DELETED}.
 *
 * @param name the event name
 * @param data its {@code data} object ({@link MissingNode} when the event has none)
 * @param timestamp QEMU's timestamp
 */
public record QmpEvent(String name, JsonNode data, Instant timestamp) {

    /** A text field of {@code data}, or null. */
    public String text(String field) {
        JsonNode n = data.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }

    /** The job this event is about: {@code data.device} for BLOCK_JOB_*, {@code data.id} for JOB_STATUS_CHANGE. */
    public String jobId() {
        String d = text("device");
        return d != null ? d : text("id");
    }

    static QmpEvent of(JsonNode msg) {
        JsonNode ts = msg.path("timestamp");
        Instant t = ts.isObject()
                ? Instant.ofEpochSecond(ts.path("seconds").asLong(), ts.path("microseconds").asLong() * 1000)
                : Instant.now();
        JsonNode data = msg.has("data") ? msg.get("data") : MissingNode.getInstance();
        return new QmpEvent(msg.path("event").asText(), data, t);
    }
}
