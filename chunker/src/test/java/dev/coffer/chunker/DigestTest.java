package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

final class DigestTest {

    private static final String HEX = "d670e1e39bf29a440e2ffdbc99c281503901d4fd58befdaca74bf04a50e89ddb";

    @Test
    void shouldRoundTripHexInLowercase() {
        Digest d = Digest.parse(HEX.toUpperCase());
        assertThat(d.hex()).isEqualTo(HEX);
        assertThat(d.toString()).isEqualTo(HEX);
        assertThat(d.shortHex()).isEqualTo("d670e1e3");
        assertThat(Digest.parse(HEX)).isEqualTo(d).hasSameHashCodeAs(d);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "d670", "d670e1e39bf29a440e2ffdbc99c281503901d4fd58befdaca74bf04a50e89ddb00",
            " 670e1e39bf29a440e2ffdbc99c281503901d4fd58befdaca74bf04a50e89ddb", "g670e1e39bf29a440e2ffdbc99c281503901d4fd58befdaca74bf04a50e89ddb",
            "+670e1e39bf29a440e2ffdbc99c281503901d4fd58befdaca74bf04a50e89ddb"})
    void shouldRejectAnythingButSixtyFourHexDigits(String text) {
        assertThatThrownBy(() -> Digest.parse(text)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Digest.isValidHex(text)).isFalse();
    }

    @Test
    void shouldAcceptOnlyLowercaseAsValidNetworkName() {
        assertThat(Digest.isValidHex(HEX)).isTrue();
        assertThat(Digest.isValidHex(HEX.toUpperCase())).isFalse();
    }

    @Test
    void shouldCopyDefensively() {
        byte[] raw = Digest.parse(HEX).toBytes();
        Digest d = Digest.of(raw);
        raw[0] ^= 1;
        assertThat(d.hex()).isEqualTo(HEX);
        d.toBytes()[0] ^= 1;
        assertThat(d.hex()).isEqualTo(HEX);
    }

    @Test
    void shouldRejectWrongLength() {
        assertThatThrownBy(() -> Digest.of(new byte[31])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("32 bytes");
    }

    @Test
    void shouldKnowTheZeroDigest() {
        assertThat(Digest.ZERO.isZero()).isTrue();
        assertThat(Digest.ZERO.hex()).isEqualTo("0".repeat(64));
        assertThat(Digest.parse(HEX).isZero()).isFalse();
    }

    @Test
    void shouldOrderUnsigned() {
        Digest low = Digest.parse("7f" + "0".repeat(62));
        Digest high = Digest.parse("80" + "0".repeat(62));
        assertThat(low).isLessThan(high);
        assertThat(Digest.ZERO).isLessThan(low);
    }
}
