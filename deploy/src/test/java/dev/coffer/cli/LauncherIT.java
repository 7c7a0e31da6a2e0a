package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the packaged {@code target/coffer/bin/coffer} the way an operator does: it must find a JDK
 * 25 on its own, pass the fixed client heap, and keep the exit-code promises.
 */
final class LauncherIT {

    private static final Path LAUNCHER = Path.of("target", "coffer", "bin", "coffer");

    private record Run(int code, String out, String err) {
    }

    private static Run run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toAbsolutePath().toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("coffer-out", ".txt");
        Path err = Files.createTempFile("coffer-err", ".txt");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("coffer finished").isTrue();
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void shouldBeAnExecutableDistribution() {
        assertThat(LAUNCHER).isExecutable();
        assertThat(LAUNCHER.resolveSibling("../lib")).isDirectoryContaining("glob:**/coffer-deploy-*.jar")
                .isDirectoryContaining("glob:**/picocli-*.jar").isDirectoryContaining("glob:**/zstd-jni-*.jar");
    }

    @Test
    void shouldFindAJdk25EvenWhenJavaHomeIsOlder() throws Exception {
        // JAVA_HOME pointing at something that is not a JDK 25 must not stop it
        Run r = run(Map.of("JAVA_HOME", "/nonexistent"), "--version");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("coffer ");
        assertThat(Runtime.version().feature()).isGreaterThanOrEqualTo(25);
    }

    @Test
    void shouldRunClientCommandsInTheFixedHeapWithoutNativeAccessWarnings() throws Exception {
        Run r = run(Map.of(), "bench", "--json", "--op", "chunk-encode", "--data", "mixed", "--threads", "1",
                "--seconds", "0.05", "--warmup", "0");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("{\"results\":[{\"op\":\"chunk-encode\"");
        assertThat(r.err()).doesNotContain("WARNING");
    }

    @Test
    void shouldExitNonZeroWithOneLineOnBadUsage() throws Exception {
        Run r = run(Map.of(), "bench", "--threads", "x");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).startsWith("coffer bench: Invalid value for option '--threads'");
    }
}
