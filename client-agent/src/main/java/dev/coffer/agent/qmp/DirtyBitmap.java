package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A dirty bitmap as {@code query-named-block-nodes} lists it on a node.
 *
 * @param name the bitmap name; null for the unnamed bitmap a running backup job adds
 * @param granularity bytes per bit
 * @param count dirty bytes
 * @param persistent stored in the qcow2 when the node closes
 * @param recording records writes (false when disabled, or when inconsistent)
 * @param busy in use by an operation (an export, a job) and cannot be changed
 * @param inconsistent QEMU did not close it cleanly (crash): its content cannot be trusted
 */
public record DirtyBitmap(String name, long granularity, long count, boolean persistent, boolean recording,
        boolean busy, boolean inconsistent) {

    static DirtyBitmap of(JsonNode b) {
        JsonNode n = b.get("name");
        return new DirtyBitmap(n == null || n.isNull() ? null : n.asText(), b.path("granularity").asLong(),
                b.path("count").asLong(), b.path("persistent").asBoolean(false), b.path("recording").asBoolean(false),
                b.path("busy").asBoolean(false), b.path("inconsistent").asBoolean(false));
    }
}
