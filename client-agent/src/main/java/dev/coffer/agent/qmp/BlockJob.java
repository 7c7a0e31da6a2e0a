package dev.coffer.agent.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/** One entry of {@code query-block-jobs}: {@code device} is the job id. */
public record BlockJob(String id, String type, String status, long offset, long len, String ioStatus) {

    static BlockJob of(JsonNode j) {
        return new BlockJob(j.path("device").asText(), j.path("type").asText(), j.path("status").asText(),
                j.path("offset").asLong(), j.path("len").asLong(), j.path("io-status").asText(null));
    }
}
