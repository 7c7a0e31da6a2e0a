package dev.coffer.agent.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code coffer bench --json} document: {@code {"results": [{"op", "data", "threads",
 * "mb_per_s"}]}}, MB = 10^6 bytes, the shape DESIGN.md promises to scripts. Fields may be added,
 * never renamed. Reading it back lets {@code bench/run} render a saved run as Markdown.
 */
public final class BenchJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private BenchJson() {
    }

    /** The JSON document for {@code results}, on one line, {@code mb_per_s} to 0.1 MB/s. */
    public static String write(List<BenchResult> results) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode array = root.putArray("results");
        for (BenchResult r : results) {
            ObjectNode o = array.addObject();
            o.put("op", r.op());
            o.put("data", r.data());
            o.put("threads", r.threads());
            o.put("mb_per_s", BigDecimal.valueOf(r.mbPerSecond()).setScale(1, RoundingMode.HALF_UP));
        }
        try {
            return MAPPER.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings and numbers always serialises", e);
        }
    }

    /**
     * The results of a document {@link #write} made (bytes and seconds are not in it: 0).
     *
     * @throws IllegalArgumentException when the text is not such a document
     */
    public static List<BenchResult> read(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a coffer bench JSON document: " + e.getOriginalMessage(), e);
        }
        JsonNode array = root == null ? null : root.get("results");
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException("not a coffer bench JSON document: no \"results\" array");
        }
        List<BenchResult> results = new ArrayList<>();
        for (JsonNode o : array) {
            for (String field : List.of("op", "data", "threads", "mb_per_s")) {
                if (!o.hasNonNull(field)) {
                    throw new IllegalArgumentException("bench result without \"" + field + "\": " + o);
                }
            }
            results.add(new BenchResult(o.get("op").asText(), o.get("data").asText(), o.get("threads").asInt(),
                    o.get("mb_per_s").asDouble(), 0, 0));
        }
        return results;
    }
}
