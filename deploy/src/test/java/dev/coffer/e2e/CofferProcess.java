package dev.coffer.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the packaged {@code bin/coffer} as operators do: a server as a long-lived process whose
 * first stdout line is its JSON start line, and client commands as short-lived processes.
 */
final class CofferProcess {

    static final Path LAUNCHER = Path.of("target", "coffer", "bin", "coffer").toAbsolutePath();
    static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out, String err) {
        JsonNode json() throws IOException {
            return JSON.readTree(out);
        }
    }

    /** A running {@code coffer server}. */
    static final class Server implements AutoCloseable {
        final Process process;
        final JsonNode start;
        final Path log;

        Server(Process process, JsonNode start, Path log) {
            this.process = process;
            this.start = start;
            this.log = log;
        }

        String store() {
            return start.get("url").asText() + "/" + start.get("datastore").asText();
        }

        String fingerprint() {
            return start.get("fingerprint").asText();
        }

        /** The client environment for this server and a token. */
        Map<String, String> env(String token) {
            Map<String, String> env = new HashMap<>();
            env.put("COFFER_STORE", store());
            env.put("COFFER_FINGERPRINT", fingerprint());
            env.put("COFFER_TOKEN", token);
            return env;
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private CofferProcess() {}

    /** Starts {@code coffer server --json --listen 127.0.0.1:0 ARGS…} and waits for its start line. */
    static Server server(Path work, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString(), "server", "--json", "--listen", "127.0.0.1:0"));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(work, "server", ".log");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null) {
            throw new IOException("coffer server exited before listening: " + Files.readString(log));
        }
        Thread drain = new Thread(() -> {
            try {
                while (out.readLine() != null) {
                    // keep the pipe from filling
                }
            } catch (IOException e) {
                // process gone
            }
        });
        drain.setDaemon(true);
        drain.start();
        return new Server(p, JSON.readTree(line), log);
    }

    /** Starts a client command without waiting for it, its output going to {@code out} and {@code err}. */
    static Process start(Map<String, String> env, Path out, Path err, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("COFFER_"));
        pb.environment().putAll(env);
        return pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }

    /** Runs a client command to completion. */
    static Run run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("COFFER_"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("coffer-out", ".txt");
        Path err = Files.createTempFile("coffer-err", ".txt");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("coffer " + String.join(" ", args) + " finished").isTrue();
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs a client command that must succeed. */
    static Run ok(Map<String, String> env, String... args) throws IOException, InterruptedException {
        Run r = run(env, args);
        assertThat(r.code()).as("coffer %s failed: %s", String.join(" ", args), r.err()).isZero();
        return r;
    }
}
