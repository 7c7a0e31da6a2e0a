package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The launcher's promises, in process: help, version, JSON on stdout, exit codes, one-line errors. */
final class CofferTest {

    private record Run(int code, String out, String err) {
    }

    private static Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Coffer.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
        return new Run(code, out.toString(), err.toString());
    }

    private static Run run(String... args) {
        return run(Map.of(), args);
    }

    @Test
    void shouldPrintHelpWithEverySubcommand() {
        Run r = run("--help");

        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: coffer").contains("bench");
    }

    /**
     * picocli formats option descriptions as format strings and, for a bare {@code %}, prints a
     * warning to the process's stderr on every {@code --help}: every command's help must render clean.
     */
    @Test
    void everyCommandsHelpRendersWithoutPicocliWarnings() throws Exception {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>();
            todo.add(new picocli.CommandLine(new Coffer()));
            int rendered = 0;
            while (!todo.isEmpty()) {
                picocli.CommandLine c = todo.poll();
                assertThat(c.getUsageMessage()).isNotBlank();
                rendered++;
                todo.addAll(c.getSubcommands().values());
            }
            assertThat(rendered).as("the root and its subcommands").isGreaterThan(10);
        } finally {
            System.setErr(saved);
        }
        assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
    }

    @Test
    void shouldHaveHelpAndVersionOnSubcommands() {
        Run help = run("bench", "--help");
        Run version = run("bench", "--version");

        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("Usage: coffer bench").contains("--json").contains("--quick");
        assertThat(version.code()).isZero();
        assertThat(version.out()).startsWith("coffer ").contains("JDK");
    }

    @Test
    void shouldPrintOneJsonDocumentOnStdoutAndProgressOnStderr() throws Exception {
        Run r = run("bench", "--json", "--op", "sha256,chunk-encode", "--data", "random,zeros",
                "--threads", "1", "--seconds", "0.02", "--warmup", "0");

        assertThat(r.code()).as(r.err()).isZero();
        JsonNode results = new ObjectMapper().readTree(r.out()).get("results");
        assertThat(results).hasSize(3);
        for (JsonNode o : results) {
            assertThat(o.properties()).extracting(Map.Entry::getKey).containsExactly("op", "data", "threads", "mb_per_s");
            assertThat(o.get("threads").asInt()).isEqualTo(1);
            assertThat(o.get("mb_per_s").asDouble()).isPositive();
        }
        assertThat(r.err()).contains("sha256").contains("MB/s");
    }

    @Test
    void shouldRunTheBackupPipelineOverASourceIntoNothing() throws Exception {
        java.nio.file.Path img = java.nio.file.Files.createTempFile("coffer-bench-", ".img");
        try {
            byte[] data = new byte[3 << 16];
            new java.util.Random(3).nextBytes(data);
            java.nio.file.Files.write(img, data);
            Run r = run("bench", "--source", "file:" + img, "--chunk-size", "65536", "--workers", "2", "--json");

            assertThat(r.code()).as(r.err()).isZero();
            JsonNode doc = new ObjectMapper().readTree(r.out());
            JsonNode result = doc.get("results").get(0);
            assertThat(result.get("op").asText()).isEqualTo("pipeline");
            assertThat(result.get("threads").asInt()).isEqualTo(2);
            assertThat(result.get("mb_per_s").asDouble()).isPositive();
            JsonNode src = doc.get("source");
            assertThat(src.get("read_bytes").asLong()).isEqualTo(3 << 16);
            assertThat(src.get("encoded_chunks").asLong()).isEqualTo(3);
            assertThat(src.get("chunk_size").asInt()).isEqualTo(65536);

            Run badSize = run("bench", "--source", "file:" + img, "--chunk-size", "1000");
            assertThat(badSize.code()).isEqualTo(Coffer.EXIT_USAGE);
            assertThat(badSize.err()).contains("--chunk-size must be a power of two");
        } finally {
            java.nio.file.Files.deleteIfExists(img);
        }
        Run missing = run("bench", "--source", "file:/nonexistent/disk.img");
        assertThat(missing.code()).isEqualTo(Coffer.EXIT_FAILURE);
        assertThat(missing.err()).isEqualTo("coffer bench: no such file or directory: /nonexistent/disk.img\n");
    }

    @Test
    void shouldPrintAHumanTableWithoutJson() {
        Run r = run("bench", "--op", "keyed-digest", "--data", "text", "--threads", "1", "--seconds", "0.02",
                "--warmup", "0");

        assertThat(r.code()).isZero();
        assertThat(r.out().lines()).hasSize(2);
        assertThat(r.out()).startsWith("op").contains("keyed-digest  text");
    }

    @Test
    void shouldRejectBadUsageWithOneLineAndExitCode2() {
        for (String[] args : new String[][] {
            {"bench", "--bogus"}, {"bench", "--op", "md5"}, {"bench", "--seconds", "-1"},
            {"bench", "--op", "chunk-decode", "--data", "zeros"}, {"no-such-command"}, {}}) {
            Run r = run(args);

            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(Coffer.EXIT_USAGE);
            assertThat(r.err().lines()).as(r.err()).hasSize(1);
            assertThat(r.err()).startsWith("coffer").contains("--help");
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void shouldRejectBadArchiveUsageWithExitCode2AndAMissingArchiveWith1() {
        for (String[] args : new String[][] {
            {"archive"}, {"archive", "check"}, {"export"},
            {"restore", "vm/1/2026-11-22T10:00:00Z", "--to", "file:/tmp/x", "--salvage"}}) {
            Run r = run(args);

            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(Coffer.EXIT_USAGE);
            assertThat(r.err().lines()).as(r.err()).hasSize(1);
            assertThat(r.err()).startsWith("coffer").contains("--help");
        }
        Run missing = run("archive", "check", "/nonexistent/a.cfa");
        assertThat(missing.code()).isEqualTo(Coffer.EXIT_FAILURE);
        assertThat(missing.err()).isEqualTo("coffer archive check: no archive file /nonexistent/a.cfa\n");
    }

    @Test
    void shouldReportAFailureInOneLineUnlessDebugging() {
        // more threads than the test JVM's heap has room for: a failure while running, not bad usage
        String[] args = {"bench", "--op", "sha256", "--data", "random", "--threads", "1000", "--warmup", "0"};

        Run plain = run(args);
        Run debug = run(Map.of("COFFER_DEBUG", "1"), args);

        assertThat(plain.code()).isEqualTo(Coffer.EXIT_FAILURE);
        assertThat(plain.err().lines()).hasSize(1);
        assertThat(plain.err()).startsWith("coffer bench: 1000 threads need more heap");
        assertThat(debug.code()).isEqualTo(Coffer.EXIT_FAILURE);
        assertThat(debug.err()).contains("\tat dev.coffer.agent.bench.CodecBench.run");
        assertThat(run(append(args, "--debug")).err()).contains("\tat ");
    }

    private static String[] append(String[] args, String extra) {
        String[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = extra;
        return all;
    }
}
