package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the packaged {@code target/coffer/bin/coffer} the way an operator does: it must find a JDK
 * 25 on its own, pass the fixed client heap, and keep the exit-code promises.
 */
final class LauncherIT {

    private static final Path LAUNCHER = Path.of("target", "coffer", "bin", "coffer");

    private record Run(int code, String out, String err) {
    }

    private static Run run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        return run(LAUNCHER, env, args);
    }

    private static Run run(Path launcher, Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(launcher.toAbsolutePath().toString()));
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

    /** What the JVM says about its AOT cache, on stderr (the launcher itself turns these messages off). */
    private static final Map<String, String> AOT_LOG = Map.of("COFFER_JAVA_OPTS", "-Xlog:aot=info:stderr");

    @Test
    void shouldStartClientCommandsWithTheClassDataCacheTheBuildMadeButNotTheServer() throws Exception {
        Path cache = LAUNCHER.resolveSibling("../lib/coffer.aot").normalize().toAbsolutePath();
        assertThat(cache).isNotEmptyFile();

        Run client = run(AOT_LOG, "--version");
        Run off = run(Map.of("COFFER_JAVA_OPTS", "-Xlog:aot=info:stderr", "COFFER_AOT", "off"), "--version");
        Run server = run(AOT_LOG, "server", "--help");

        assertThat(client.code()).as(client.err()).isZero();
        assertThat(client.err()).as("the cache the build made is used (a build with -Dcoffer.aot.skip leaves a stale one)")
                .contains("Opened AOT cache " + cache);
        assertThat(client.out()).contains("class-data cache: in use (lib/coffer.aot)");
        assertThat(off.code()).as(off.err()).isZero();
        assertThat(off.err()).doesNotContain("coffer.aot");
        assertThat(off.out()).contains("class-data cache: off (COFFER_AOT=off)");
        assertThat(server.code()).as(server.err()).isZero();
        assertThat(server.err()).doesNotContain("coffer.aot");
    }

    @Test
    void shouldKeepTheCacheWhenTheDistributionMovesAndLeaveItOutSilentlyOnceAJarChanges(@TempDir Path tmp) throws Exception {
        Path copy = tmp.resolve("moved");
        Process cp = new ProcessBuilder("cp", "-a", LAUNCHER.resolveSibling("..").normalize().toString(), copy.toString())
                .inheritIO().start();
        assertThat(cp.waitFor(60, TimeUnit.SECONDS) && cp.exitValue() == 0).as("cp -a of the distribution").isTrue();
        Path launcher = copy.resolve("bin/coffer");
        Path cache = copy.resolve("lib/coffer.aot").toAbsolutePath();

        Run moved = run(launcher, AOT_LOG, "--version");
        assertThat(moved.code()).as(moved.err()).isZero();
        assertThat(moved.err()).contains("Opened AOT cache " + cache);

        // an upgrade replaced a jar but kept the old cache: the JVM would refuse the cache with
        // four error lines and run without any class sharing; the launcher leaves it out instead
        try (var jars = Files.newDirectoryStream(copy.resolve("lib"), "picocli-*.jar")) {
            Path jar = jars.iterator().next();
            Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(60)));
        }
        Run stale = run(launcher, Map.of(), "--version");
        Run staleLog = run(launcher, AOT_LOG, "--version");
        assertThat(stale.code()).as(stale.err()).isZero();
        assertThat(stale.out()).startsWith("coffer ");
        assertThat(stale.err()).isEmpty();
        assertThat(stale.out()).contains("class-data cache: not in use, it was made for another JDK or other jars: "
                + "run 'coffer aot-cache'");
        assertThat(staleLog.err()).doesNotContain("coffer.aot");

        // aot-cache trains a new one, which the next command starts with; a second call has nothing to do
        Run made = run(launcher, Map.of(), "aot-cache");
        assertThat(made.code()).as(made.err()).isZero();
        assertThat(made.out()).startsWith("coffer aot-cache: made " + cache);
        Run again = run(launcher, Map.of(), "aot-cache");
        assertThat(again.out()).isEqualTo("coffer aot-cache: " + cache + " is up to date\n");
        Run used = run(launcher, AOT_LOG, "--version");
        assertThat(used.err()).contains("Opened AOT cache " + cache);
        assertThat(used.out()).contains("class-data cache: in use");

        // no cache at all
        Files.delete(cache);
        assertThat(run(launcher, Map.of(), "--version").out()).contains("class-data cache: none: run 'coffer aot-cache'");
        assertThat(copy.resolve("lib")).isDirectoryNotContaining("glob:**/.aot-cache.*");
    }

    @Test
    void shouldKeepTheCacheItHasWhenTrainingCannotStart() throws Exception {
        Path lib = LAUNCHER.resolveSibling("../lib").normalize();
        byte[] stamp = Files.readAllBytes(lib.resolve("coffer.aot.stamp"));

        Run r = run(Map.of("TMPDIR", "/nonexistent/coffer-test"), "aot-cache", "--force");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).endsWith("coffer aot-cache: cannot make a temporary directory under /nonexistent/coffer-test\n");
        assertThat(lib).isDirectoryNotContaining("glob:**/.aot-cache.*");
        assertThat(lib.resolve("coffer.aot.stamp")).hasBinaryContent(stamp);
        assertThat(run(AOT_LOG, "--version").err()).contains("Opened AOT cache");
    }

    @Test
    void shouldRefuseAnUnknownAotCacheArgument() throws Exception {
        Run r = run(Map.of(), "aot-cache", "--bogus");

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("coffer aot-cache: unknown argument '--bogus' (see 'coffer aot-cache --help')\n");
    }
}
