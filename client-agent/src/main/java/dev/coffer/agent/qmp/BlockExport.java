package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/** One entry of {@code query-block-exports}. */
public record BlockExport(String id, String type, String nodeName, boolean shuttingDown) {

    static BlockExport of(JsonNode e) {
        return new BlockExport(e.path("id").asText(), e.path("type").asText(), e.path("node-name").asText(),
                e.path("shutting-down").asBoolean(false));
    }
}
