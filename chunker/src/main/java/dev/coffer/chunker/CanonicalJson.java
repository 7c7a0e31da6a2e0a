package dev.coffer.chunker;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The JSON dialect Coffer signs: strict parsing and one canonical byte form per tree.
 *
 * <p>A signature over JSON is only as good as the agreement on which bytes were signed, so the
 * signer and every verifier serialize the parsed tree the same way instead of trusting the bytes on
 * disk: UTF-8, object keys sorted by {@link String#compareTo} (UTF-16 code units, as RFC 8785
 * does) at every level, no whitespace, integers in plain decimal, and strings with only the
 * quote, the backslash and control characters escaped (short forms for backspace, tab, newline,
 * form feed and carriage return, else a six-character u-escape in lowercase hex); everything else,
 * astral characters included, is raw UTF-8. This is the output of Python's {@code json.dumps(obj,
 * sort_keys=True, separators=(",", ":"), ensure_ascii=False)} for integer-only documents. Parsing is
 * strict where leniency would let two readers see different documents: input must be valid UTF-8,
 * duplicate keys and trailing data are rejected, strings must not hold unpaired surrogates, and
 * fractions are kept exact ({@link java.math.BigDecimal}) so unknown fields survive a round trip.
 * Signed parts hold integers only, never fractions, whose text forms differ between languages.
 */
final class CanonicalJson {

    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(JsonNodeFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            // characters outside the BMP as raw UTF-8 and escapes in lowercase hex, as RFC 8785 and
            // most other JSON writers (Python's json with ensure_ascii=False) produce them
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
            .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
            .build();

    static final JsonNodeFactory NODES = MAPPER.getNodeFactory();

    private CanonicalJson() {}

    /**
     * Parses one JSON document and checks every string in it.
     *
     * @throws FormatException.Malformed if the bytes are not strict UTF-8 JSON
     */
    static JsonNode parse(byte[] bytes, String where) throws FormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException.Malformed(where, "not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw new FormatException.Malformed(where, "not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                            + ", column " + e.getLocation().getColumnNr()), e);
        }
        if (root == null || root.isMissingNode()) {
            throw new FormatException.Malformed(where, "empty document");
        }
        check(root, where, "", false);
        return root;
    }

    /**
     * Rejects unpaired surrogates anywhere (they have no UTF-8 form) and, when
     * {@code integersOnly}, every number that is not an integer.
     */
    static void check(JsonNode node, String where, String path, boolean integersOnly) throws FormatException {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                String child = JsonFields.child(path, e.getKey());
                checkText(e.getKey(), where, child);
                check(e.getValue(), where, child, integersOnly);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                check(node.get(i), where, path + "[" + i + "]", integersOnly);
            }
        } else if (node.isTextual()) {
            checkText(node.textValue(), where, path);
        } else if (node.isNumber() && !node.isIntegralNumber() && integersOnly) {
            throw new FormatException.Malformed(where + " at " + path, "fractions are not allowed in a signed part, got " + node);
        }
    }

    private static void checkText(String s, String where, String path) throws FormatException {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new FormatException.Malformed(where + " at " + path, "unpaired UTF-16 surrogate at character " + i);
            }
        }
    }

    /** The canonical bytes of a tree: UTF-8, keys sorted at every level, no whitespace. */
    static byte[] canonicalBytes(JsonNode node) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator gen = MAPPER.getFactory().createGenerator(out, JsonEncoding.UTF8)) {
            write(gen, node);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    private static void write(JsonGenerator gen, JsonNode node) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT -> {
                List<String> names = new ArrayList<>(node.size());
                node.properties().forEach(e -> names.add(e.getKey()));
                names.sort(null);
                gen.writeStartObject();
                for (String name : names) {
                    gen.writeFieldName(name);
                    write(gen, node.get(name));
                }
                gen.writeEndObject();
            }
            case ARRAY -> {
                gen.writeStartArray();
                for (JsonNode element : node) {
                    write(gen, element);
                }
                gen.writeEndArray();
            }
            case STRING -> gen.writeString(node.textValue());
            case BOOLEAN -> gen.writeBoolean(node.booleanValue());
            case NULL -> gen.writeNull();
            case NUMBER -> {
                switch (node.numberType()) {
                    case INT -> gen.writeNumber(node.intValue());
                    case LONG -> gen.writeNumber(node.longValue());
                    case BIG_INTEGER -> gen.writeNumber(node.bigIntegerValue());
                    case BIG_DECIMAL -> gen.writeNumber(node.decimalValue());
                    case FLOAT, DOUBLE -> gen.writeNumber(node.doubleValue());
                }
            }
            default -> throw new IllegalArgumentException("not a JSON value: " + node.getNodeType());
        }
    }
}
