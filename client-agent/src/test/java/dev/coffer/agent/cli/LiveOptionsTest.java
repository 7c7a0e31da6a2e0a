package dev.coffer.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code coffer restore --live}: bad input is refused with a reason before anything is contacted or created. */
final class LiveOptionsTest {

    @Test
    void shouldParseRatesInBinaryUnits() {
        assertThat(LiveOptions.parseSize("4096")).isEqualTo(4096);
        assertThat(LiveOptions.parseSize("50M")).isEqualTo(50L << 20);
        assertThat(LiveOptions.parseSize("1g")).isEqualTo(1L << 30);
        assertThatThrownBy(() -> LiveOptions.parseSize("0")).hasMessageContaining("positive");
        assertThatThrownBy(() -> LiveOptions.parseSize("fast")).hasMessageContaining("--rate fast");
    }

    @Test
    void shouldNeedQmp() {
        assertThatThrownBy(() -> call("vm/1/2026-11-22T10:00:00Z", "--live", "--to", "file:/tmp/x.qcow2"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--qmp");
    }

    @Test
    void shouldNeedAFileTarget() {
        assertThatThrownBy(() -> call("vm/1/2026-11-22T10:00:00Z", "--live", "--qmp", "/tmp/q", "--to", "nbd://h:1/x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("file:PATH");
    }

    @Test
    void shouldRefuseAll() {
        assertThatThrownBy(() -> call("vm/1/2026-11-22T10:00:00Z", "--live", "--qmp", "/tmp/q", "--all", "--to-dir", "/tmp/d"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one disk");
    }

    @Test
    void shouldRefuseATcpListenAddress() {
        assertThatThrownBy(() -> call("vm/1/2026-11-22T10:00:00Z", "--live", "--qmp", "/tmp/q", "--to", "file:/tmp/x.qcow2",
                "--listen", "127.0.0.1:10809")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unix:PATH");
    }

    private static void call(String... args) throws Exception {
        RestoreCommand c = new RestoreCommand();
        new CommandLine(c).parseArgs(args);
        c.call();
    }
}
