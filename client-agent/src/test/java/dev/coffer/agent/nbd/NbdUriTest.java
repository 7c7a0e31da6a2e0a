package dev.coffer.agent.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

final class NbdUriTest {

    @Test
    void shouldParseTcpUris() {
        assertThat(NbdUri.parse("nbd://10.0.0.5:10810/vda")).isEqualTo(NbdUri.tcp("10.0.0.5", 10810, "vda"));
        assertThat(NbdUri.parse("nbd://host")).isEqualTo(NbdUri.tcp("host", NbdUri.DEFAULT_PORT, ""));
        assertThat(NbdUri.parse("nbd://host/")).isEqualTo(NbdUri.tcp("host", NbdUri.DEFAULT_PORT, ""));
        assertThat(NbdUri.parse("nbd://[::1]:99/a%20b")).isEqualTo(NbdUri.tcp("::1", 99, "a b"));
        assertThat(NbdUri.parse("nbd://host/dir/disk")).isEqualTo(NbdUri.tcp("host", NbdUri.DEFAULT_PORT, "dir/disk"));
        assertThat(NbdUri.parse("nbd://host/vda").isUnix()).isFalse();
    }

    @Test
    void shouldParseUnixUris() {
        assertThat(NbdUri.parse("nbd+unix:///b1?socket=/run/coffer/nbd.sock"))
                .isEqualTo(NbdUri.unix(Path.of("/run/coffer/nbd.sock"), "b1"));
        assertThat(NbdUri.parse("nbd+unix:///?socket=/tmp/s")).isEqualTo(NbdUri.unix(Path.of("/tmp/s"), ""));
        assertThat(NbdUri.parse("nbd+unix://?socket=/tmp/s")).isEqualTo(NbdUri.unix(Path.of("/tmp/s"), ""));
        assertThat(NbdUri.parse("nbd+unix:///x?socket=/tmp/a%20b+c").socket()).isEqualTo(Path.of("/tmp/a b+c"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "nbd://host:10810/vda | nbd://host:10810/vda",
        "nbd://host/vda | nbd://host/vda",
        "nbd://host | nbd://host",
        "nbd://[::1]/a%20b | nbd://[::1]/a%20b",
        "nbd+unix:///b1?socket=/s | nbd+unix:///b1?socket=/s",
        "nbd+unix:///?socket=/s | nbd+unix:///?socket=/s"})
    void shouldPrintWhatItParses(String text, String printed) {
        assertThat(NbdUri.parse(text).toString()).isEqualTo(printed);
        assertThat(NbdUri.parse(printed)).isEqualTo(NbdUri.parse(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "'' | empty NBD URI",
        "/dev/nbd0 | no scheme",
        "http://host/x | unknown scheme 'http'",
        "nbds://host/x | TLS (nbds) is not supported",
        "nbd+vsock://2/x | vsock is not supported",
        "nbd:///x | no host",
        "nbd://host:99999/x | bad host or port",
        "nbd://host/x?tls=on | query parameters are not supported",
        "nbd+unix:///x | missing ?socket=/path",
        "nbd+unix:///x?socket= | socket= is empty",
        "nbd+unix:///x?sock=/s | unknown query parameter 'sock'",
        "nbd+unix://host/x?socket=/s | has no host",
        "nbd:host | expected 'nbd://'",
        "nbd://ho st/x | not a valid URI"})
    void shouldRejectWithAClearMessage(String text, String message) {
        assertThatThrownBy(() -> NbdUri.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message)
                .hasMessageContaining(text.isEmpty() ? "expected nbd://" : "'" + text + "'");
    }
}
