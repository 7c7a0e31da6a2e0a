package dev.coffer.agent.cli;

import dev.coffer.agent.backup.ChunkSource;
import dev.coffer.agent.backup.FileChunkSource;
import dev.coffer.agent.backup.NbdChunkSource;
import dev.coffer.agent.backup.SourceBench;
import dev.coffer.agent.bench.BenchJson;
import dev.coffer.agent.bench.BenchOp;
import dev.coffer.agent.bench.BenchReport;
import dev.coffer.agent.bench.BenchResult;
import dev.coffer.agent.bench.BenchSettings;
import dev.coffer.agent.bench.CodecBench;
import dev.coffer.agent.bench.DataKind;
import dev.coffer.agent.bench.MachineInfo;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.FileFormats;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code coffer bench}: how fast this machine hashes, compresses, encrypts and encodes chunks, on
 * one thread and on all cores. The first thing to run when a backup is slower than expected, and
 * the source of the figures in docs/benchmarks.md. Measuring is done by {@link CodecBench}; this
 * class only turns options into {@link BenchSettings} and prints.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measures local throughput of the data path in MB/s (10^6 bytes per second): digests, zstd, "
                + "AES-256-GCM and the chunk codec, on 4 MiB chunks of random, text, zeros and mixed data, "
                + "on one thread and on all cores. Results go to stdout, progress to stderr.",
        footer = {"",
            "Ops: sha256, keyed-digest, zstd-compress, zstd-decompress, aes-gcm-encrypt, aes-gcm-decrypt, "
                + "chunk-encode, chunk-decode, chunk-encode-encrypted, chunk-decode-encrypted.",
            "Data: random, text, zeros, mixed. The chunk ops skip zeros: all-zero chunks are never encoded."})
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON document {\"results\": [{op, data, threads, mb_per_s}]}.")
    boolean json;

    @Option(names = "--quick", description = "A short run: 4 s warm-up, 0.25 s per case (slow-to-compile ops may come out low).")
    boolean quick;

    @Option(names = "--seconds", paramLabel = "S", description = "Seconds to measure each case (default 1; 0.25 with --quick).")
    Double seconds;

    @Option(names = "--warmup", paramLabel = "S", description = "Seconds of JIT warm-up before measuring (default 20; 4 with --quick).")
    Double warmup;

    @Option(names = "--op", paramLabel = "OP", split = ",", converter = OpConverter.class,
            description = "Only these ops (comma-separated, repeatable).")
    List<BenchOp> ops;

    @Option(names = "--data", paramLabel = "KIND", split = ",", converter = DataConverter.class,
            description = "Only these data kinds (comma-separated, repeatable).")
    List<DataKind> data;

    @Option(names = "--threads", paramLabel = "N", split = ",",
            description = "Thread counts to run each case with (default: 1 and the number of processors).")
    List<Integer> threads;

    @Option(names = "--source", paramLabel = "URI",
            description = "Instead of the codec cases: run the backup pipeline (read, zero check, SHA-256, zstd) over "
                    + "this disk (file:PATH, nbd://HOST:PORT/EXPORT or nbd+unix:///EXPORT?socket=PATH) into a sink that "
                    + "keeps nothing, once, and report its rate: what this host can back up with the store taken out.")
    String source;

    @Option(names = "--chunk-size", paramLabel = "BYTES", description = "Chunk size for --source (default 1048576, that of new datastores).")
    Integer chunkSize;

    @Option(names = "--encrypt", description = "With --source: encrypt too (AES-256-GCM, keyed digests) under a random key.")
    boolean encrypt;

    @Option(names = "--workers", paramLabel = "N", description = "Workers for --source (default: max(4, cores), as a backup).")
    Integer workers;

    @Option(names = "--markdown-from", paramLabel = "FILE", hidden = true,
            description = "Render a saved --json document as Markdown (for bench/run); measures nothing.")
    Path markdownFrom;

    @Option(names = "--markdown-version", hidden = true, description = "Coffer version for the Markdown heading.")
    String markdownVersion;

    @Option(names = "--markdown-command", hidden = true, description = "Command for the Markdown heading.")
    String markdownCommand;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (markdownFrom != null) {
            out.print(markdown(BenchJson.read(Files.readString(markdownFrom))));
            out.flush();
            return 0;
        }
        if (source != null) {
            return pipeline(out);
        }
        List<BenchResult> results = new CodecBench(settings(), this::progress).run();
        out.print(json ? BenchJson.write(results) + "\n" : new BenchReport(results).table());
        out.flush();
        return 0;
    }

    /** {@code --source}: one pass of the backup pipeline into a discarding sink. */
    private int pipeline(PrintWriter out) throws IOException {
        int cs = chunkSize != null ? chunkSize : FileFormats.DEFAULT_CHUNK_SIZE;
        if (!dev.coffer.chunker.FixedIndex.isValidChunkSize(cs)) {
            throw new ParameterException(spec.commandLine(), "--chunk-size must be a power of two from "
                    + FileFormats.MIN_CHUNK_SIZE + " to " + FileFormats.MAX_CHUNK_SIZE + ", got " + cs);
        }
        int n = workers != null ? workers : Math.max(4, Runtime.getRuntime().availableProcessors());
        if (n < 1) {
            throw new ParameterException(spec.commandLine(), "--workers must be at least 1");
        }
        Sources.Source s = Sources.source(source);
        CryptConfig crypt = null;
        if (encrypt) {
            byte[] master = new byte[CryptConfig.MASTER_KEY_LENGTH];
            new java.security.SecureRandom().nextBytes(master);
            crypt = CryptConfig.fromMasterKey(master);
        }
        Path work = Files.createTempDirectory("coffer-bench-");
        SourceBench.Result r;
        try (ChunkSource src = s.nbd() != null ? NbdChunkSource.open(s.nbd(), null, cs) : FileChunkSource.open(s.file(), cs)) {
            progress("reading " + source + " through the backup pipeline into a discarding sink");
            r = SourceBench.run(src, cs, crypt, n, work);
        } finally {
            Files.deleteIfExists(work);
        }
        double mbPerS = r.readBytes() / 1e6 / Math.max(r.durationS(), 1e-9);
        if (json) {
            // the "results" array in coffer bench's own shape, plus what the pass did
            com.fasterxml.jackson.databind.node.ObjectNode root = (com.fasterxml.jackson.databind.node.ObjectNode)
                    dev.coffer.store.api.Wire.mapper().readTree(BenchJson.write(List.of(new BenchResult(
                            encrypt ? "pipeline-encrypted" : "pipeline", "source", n, mbPerS, r.readBytes(), r.durationS()))));
            com.fasterxml.jackson.databind.node.ObjectNode src = root.putObject("source");
            src.put("uri", source);
            src.put("chunk_size", cs);
            src.put("size", r.size());
            src.put("read_bytes", r.readBytes());
            src.put("zero_bytes", r.zeroBytes());
            src.put("encoded_chunks", r.encodedChunks());
            src.put("encoded_bytes", r.encodedBytes());
            src.put("duration_s", r.durationS());
            out.println(dev.coffer.store.api.Wire.mapper().writeValueAsString(root));
        } else {
            out.printf(java.util.Locale.ROOT, "%s: %s read (%s zero, skipped or recognised), %d chunks encoded to %s, in %.1f s:"
                    + " %.0f MB/s of read data on %d workers%n", source, ProgressLine.human(r.readBytes()), ProgressLine.human(r.zeroBytes()),
                    r.encodedChunks(), ProgressLine.human(r.encodedBytes()), r.durationS(), mbPerS, n);
        }
        out.flush();
        return 0;
    }

    private BenchSettings settings() {
        int cpus = Runtime.getRuntime().availableProcessors();
        BenchSettings full = BenchSettings.full(cpus);
        try {
            List<Integer> threadCounts = threads;
            if (threadCounts == null) {
                int fit = CodecBench.maxThreadsForHeap(full.chunkSize(), Runtime.getRuntime().maxMemory());
                if (fit < cpus) {
                    progress("all-core cases capped at " + fit + " threads: the heap ("
                            + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB) holds no more 4 MiB workers;"
                            + " raise it with COFFER_JAVA_OPTS=-Xmx...");
                }
                threadCounts = full.threads().stream().map(t -> Math.min(t, fit)).distinct().toList();
            }
            Duration w = warmup != null ? duration(warmup, "--warmup")
                    : quick ? BenchSettings.QUICK_WARMUP : BenchSettings.FULL_WARMUP;
            Duration m = seconds != null ? duration(seconds, "--seconds")
                    : quick ? BenchSettings.QUICK_MEASURE : BenchSettings.FULL_MEASURE;
            BenchSettings s = full.withTimes(w, m).withCases(
                    ops != null ? ops : full.ops(), data != null ? data : full.data(), threadCounts);
            s.cases();
            return s;
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    private static Duration duration(double secs, String option) {
        if (!(secs >= 0) || secs > 3600) {
            throw new IllegalArgumentException(option + " must be between 0 and 3600 seconds, got " + secs);
        }
        return Duration.ofNanos(Math.round(secs * 1e9));
    }


    private String markdown(List<BenchResult> results) {
        StringBuilder md = new StringBuilder();
        md.append("Measured ")
                .append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")))
                .append(" on ").append(MachineInfo.current().describe());
        if (markdownVersion != null) {
            md.append(", Coffer ").append(markdownVersion);
        }
        if (markdownCommand != null) {
            md.append(", command `").append(markdownCommand).append('`');
        }
        md.append(". MB/s = 10^6 bytes of chunk plaintext per second.\n\n");
        md.append(new BenchReport(results).markdown());
        return md.toString();
    }

    private void progress(String line) {
        PrintWriter err = spec.commandLine().getErr();
        err.println(line);
        err.flush();
    }

    /** Parses an op name, listing the known ones when it is not one. */
    static final class OpConverter implements ITypeConverter<BenchOp> {
        @Override
        public BenchOp convert(String value) {
            try {
                return BenchOp.fromLabel(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** Parses a data kind name, listing the known ones when it is not one. */
    static final class DataConverter implements ITypeConverter<DataKind> {
        @Override
        public DataKind convert(String value) {
            try {
                return DataKind.fromLabel(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
