package dev.coffer.store.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;

/**
 * The JSON conventions of the API in one place: snake_case names, unknown fields ignored (so an
 * older client talks to a newer server), nulls written out (a field's absence and null mean the
 * same, but explicit is easier to read in curl output).
 */
public final class Wire {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .setSerializationInclusion(JsonInclude.Include.ALWAYS);

    private Wire() {}

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static byte[] toBytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Parses a request or response body.
     *
     * @throws IllegalArgumentException with a one-line reason when the body is not the expected JSON
     */
    public static <T> T parse(byte[] body, Class<T> type) {
        T value;
        try {
            value = MAPPER.readValue(body, type);
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            int nl = m.indexOf('\n');
            throw new IllegalArgumentException("body is not a valid " + type.getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl)), e);
        }
        if (value == null) {
            // same message prefix as a parse error: the API answers both with 400 bad-body
            throw new IllegalArgumentException("body is not a valid " + type.getSimpleName() + ": it is JSON null");
        }
        return value;
    }
}
