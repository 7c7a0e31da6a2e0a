package dev.coffer.bench;

import dev.coffer.agent.bench.DataKind;
import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FormatException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The chunk codec's three steps on one chunk of mixed data (half random, half log-like text):
 * naming it ({@link ChunkCodec#digest}, SHA-256 or keyed), encoding it and decoding it back, plain
 * and encrypted, for the largest (4 MiB) and the smallest (64 KiB) chunk size a datastore allows.
 *
 * <p>Results are in chunks per second; multiply by {@code chunkSize} for bytes per second (e.g.
 * 400 ops/s at 4 MiB is 1678 MB/s). The codec is one per thread, as in the product.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class ChunkCodecBenchmark {

    @Param({"4194304", "65536"})
    public int chunkSize;

    @Param({"plain", "encrypted"})
    public String mode;

    private byte[] chunk;
    private Digest digest;
    private byte[] blob;
    private ChunkCodec codec;

    @Setup(Level.Trial)
    public void setUp() {
        chunk = DataKind.MIXED.chunk(chunkSize, 20_250_101L);
        CryptConfig crypt = null;
        if (mode.equals("encrypted")) {
            byte[] master = new byte[CryptConfig.MASTER_KEY_LENGTH];
            new SplittableRandom(1).nextBytes(master);
            crypt = CryptConfig.fromMasterKey(master);
        }
        codec = ChunkCodec.create(crypt);
        digest = codec.digest(chunk, 0, chunk.length);
        blob = codec.encode(chunk, 0, chunk.length);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        codec.close();
    }

    @Benchmark
    public Digest digest() {
        return codec.digest(chunk, 0, chunk.length);
    }

    @Benchmark
    public byte[] encode() {
        return codec.encode(chunk, 0, chunk.length);
    }

    @Benchmark
    public byte[] decode() throws FormatException {
        return codec.decode(blob, digest, chunk.length);
    }
}
