package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

final class CanonicalJsonTest {

    /**
     * The expected text is Python's {@code json.dumps(..., sort_keys=True, separators=(",", ":"),
     * ensure_ascii=False)} of the same document, so another implementation can reproduce it.
     */
    @Test
    void shouldWriteTheSameBytesAsPython() throws FormatException {
        StringBuilder s = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            s.append(c);
        }
        s.append("\"\\/ \u00e9\ud83d\ude00\u2028\u007f");
        ObjectNode o = CanonicalJson.NODES.objectNode();
        o.put("b", s.toString());
        o.putArray("a").add(1).add(-2).add(10737418240L).add(true).addNull();
        o.putObject("A");
        String expected = "{\"A\":{},\"a\":[1,-2,10737418240,true,null],\"b\":\"\\u0000\\u0001\\u0002\\u0003\\u0004"
                + "\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015"
                + "\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\\"\\\\/ \u00e9\ud83d\ude00"
                + "\u2028\u007f\"}";
        byte[] bytes = CanonicalJson.canonicalBytes(o);
        assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo(expected);
        assertThat(CanonicalJson.canonicalBytes(CanonicalJson.parse(bytes, "t"))).isEqualTo(bytes);
    }

    @Test
    void shouldSortKeysByUtf16CodeUnits() {
        ObjectNode o = CanonicalJson.NODES.objectNode();
        o.put("\ufb01", 1).put("\ud83d\ude00", 2).put("b", 3).put("B", 4).put("aa", 5).put("a", 6);
        assertThat(new String(CanonicalJson.canonicalBytes(o), StandardCharsets.UTF_8))
                .isEqualTo("{\"B\":4,\"a\":6,\"aa\":5,\"b\":3,\"\ud83d\ude00\":2,\"\ufb01\":1}");
    }

    @Test
    void shouldNormaliseWhitespaceAndOrder() throws FormatException {
        byte[] in = " { \"z\" : [ 1 , { \"y\":null, \"x\" : \"\\u0041\" } ] , \"a\" : false }\n".getBytes(StandardCharsets.UTF_8);
        assertThat(new String(CanonicalJson.canonicalBytes(CanonicalJson.parse(in, "t")), StandardCharsets.UTF_8))
                .isEqualTo("{\"a\":false,\"z\":[1,{\"x\":\"A\",\"y\":null}]}");
    }

    @Test
    void shouldRejectDuplicateKeys() {
        assertThatThrownBy(() -> CanonicalJson.parse("{\"a\":{\"b\":1,\"b\":1}}".getBytes(StandardCharsets.UTF_8), "t"))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("Duplicate");
    }

    @Test
    void shouldRejectUnpairedSurrogatesInKeys() {
        assertThatThrownBy(() -> CanonicalJson.parse("{\"\\udc00\":1}".getBytes(StandardCharsets.UTF_8), "t"))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("surrogate");
    }
}
