package dev.coffer.agent.serve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.agent.nbd.BlockStatus;
import dev.coffer.agent.nbd.Extent;
import dev.coffer.agent.nbd.NbdClient;
import dev.coffer.agent.nbd.NbdException;
import dev.coffer.agent.nbd.NbdUri;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coffer serve}'s NBD server against our own client, over an in-memory disk: handshake, reads, block status. */
final class NbdServerTest {

    private static final int CS = 64 * 1024;
    /** 10 chunks and a short last one; chunks 2, 3, 4 and 8 are zero. */
    private static final long SIZE = 10L * CS + 1000;
    private static final boolean[] ZERO = {false, false, true, true, true, false, false, false, true, false, false};

    @TempDir
    static Path dir;
    static byte[] image;
    static MemoryDisk disk;
    static ChunkCache cache;
    static NbdServer server;

    /** The disk as the store would hand it out, counting fetches. */
    static final class MemoryDisk implements ChunkSource {
        final AtomicInteger reads = new AtomicInteger();

        @Override
        public long size() {
            return SIZE;
        }

        @Override
        public int chunkSize() {
            return CS;
        }

        @Override
        public boolean isZero(long chunk) {
            return ZERO[(int) chunk];
        }

        @Override
        public byte[] read(long chunk) throws IOException {
            reads.incrementAndGet();
            int off = (int) (chunk * CS);
            return Arrays.copyOfRange(image, off, off + chunkLength(chunk));
        }
    }

    @BeforeAll
    static void start() throws Exception {
        image = new byte[(int) SIZE];
        new SplittableRandom(7).nextBytes(image);
        for (int c = 0; c < ZERO.length; c++) {
            if (ZERO[c]) {
                Arrays.fill(image, c * CS, (int) Math.min(SIZE, (long) (c + 1) * CS), (byte) 0);
            }
        }
        disk = new MemoryDisk();
        cache = new ChunkCache(disk, 4, 2, 2);
        server = NbdServer.start(UnixDomainSocketAddress.of(dir.resolve("s.sock")), "vda", cache);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        cache.close();
    }

    @Test
    void shouldServeTheImageByteForByteUnderItsNameAndTheDefaultExport() throws Exception {
        for (String export : List.of("vda", "")) {
            try (NbdClient c = NbdClient.connect(NbdUri.parse("nbd+unix:///" + export + "?socket=" + dir.resolve("s.sock")))) {
                assertThat(c.info().size()).isEqualTo(SIZE);
                assertThat(c.info().readOnly()).isTrue();
                assertThat(c.info().maximumPayload()).isEqualTo(32 << 20);
                byte[] all = new byte[(int) SIZE];
                List<CompletableFuture<Void>> reads = new ArrayList<>();
                for (int off = 0; off < SIZE; off += 3000) { // unaligned, many in flight, across chunk edges
                    reads.add(c.readAsync(off, all, off, (int) Math.min(3000, SIZE - off)));
                }
                CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).join();
                assertThat(all).isEqualTo(image);
                byte[] whole = new byte[(int) SIZE];
                c.read(0, whole, 0, whole.length);
                assertThat(whole).isEqualTo(image);
            }
        }
    }

    @Test
    void shouldReportZeroChunksAsHoleZeroAndMergeRuns() throws Exception {
        try (NbdClient c = NbdClient.connect(NbdUri.parse("nbd+unix:///vda?socket=" + dir.resolve("s.sock")))) {
            assertThat(c.metaContexts()).contains(BlockStatus.BASE_ALLOCATION);
            BlockStatus s = c.blockStatus(0, SIZE);
            List<Extent> e = s.extents().get(BlockStatus.BASE_ALLOCATION);
            assertThat(e).extracting(Extent::offset, Extent::length, Extent::flags).containsExactly(
                    org.assertj.core.groups.Tuple.tuple(0L, 2L * CS, 0),
                    org.assertj.core.groups.Tuple.tuple(2L * CS, 3L * CS, 3),
                    org.assertj.core.groups.Tuple.tuple(5L * CS, 3L * CS, 0),
                    org.assertj.core.groups.Tuple.tuple(8L * CS, 1L * CS, 3),
                    org.assertj.core.groups.Tuple.tuple(9L * CS, SIZE - 9L * CS, 0));
        }
    }

    @Test
    void shouldCountTheDataBytesItServesButNotTheZeroChunks() throws Exception {
        try (NbdClient c = NbdClient.connect(NbdUri.parse("nbd+unix:///vda?socket=" + dir.resolve("s.sock")))) {
            long before = server.dataBytesServed();
            byte[] b = new byte[4 * CS];
            c.read(CS + 100, b, 0, b.length); // the end of chunk 1, zero chunks 2 to 4, the start of chunk 5
            assertThat(server.dataBytesServed() - before).isEqualTo(CS);
        }
        assertThat(cache.zeroBytes()).as("chunks 2, 3, 4 and 8").isEqualTo(4L * CS);
    }

    @Test
    void shouldRefuseReadsPastTheEnd() throws Exception {
        try (NbdClient c = NbdClient.connect(NbdUri.parse("nbd+unix:///vda?socket=" + dir.resolve("s.sock")))) {
            byte[] b = new byte[4096];
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.read(SIZE - 100, b, 0, 4096))
                    .isInstanceOf(NbdException.class).hasMessageContaining("EINVAL");
            c.read(0, b, 0, 4096); // the connection survives
            assertThat(Arrays.copyOf(b, 4096)).isEqualTo(Arrays.copyOf(image, 4096));
        }
    }

    /**
     * A client that ignores the read-only flag sends a WRITE anyway (ours refuses locally, so the
     * request is written by hand): the server answers EPERM, skips the payload, keeps the
     * connection, and the data is unchanged.
     */
    @Test
    void shouldAnswerEpermToAWriteOnTheWire() throws Exception {
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("s.sock")))) {
            java.io.DataInputStream in = new java.io.DataInputStream(java.nio.channels.Channels.newInputStream(ch));
            java.io.DataOutputStream out = new java.io.DataOutputStream(java.nio.channels.Channels.newOutputStream(ch));
            assertThat(in.readLong()).isEqualTo(dev.coffer.agent.nbd.NbdProtocol.NBDMAGIC);
            assertThat(in.readLong()).isEqualTo(dev.coffer.agent.nbd.NbdProtocol.IHAVEOPT);
            int serverFlags = in.readUnsignedShort();
            assertThat(serverFlags & dev.coffer.agent.nbd.NbdProtocol.FLAG_NO_ZEROES).isNotZero();
            out.writeInt(dev.coffer.agent.nbd.NbdProtocol.FLAG_FIXED_NEWSTYLE | dev.coffer.agent.nbd.NbdProtocol.FLAG_NO_ZEROES);
            byte[] name = "vda".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            out.writeLong(dev.coffer.agent.nbd.NbdProtocol.IHAVEOPT);
            out.writeInt(dev.coffer.agent.nbd.NbdProtocol.OPT_EXPORT_NAME);
            out.writeInt(name.length);
            out.write(name);
            out.flush();
            assertThat(in.readLong()).isEqualTo(SIZE); // export size
            in.readUnsignedShort(); // transmission flags; no zero padding (NO_ZEROES)
            for (int round = 0; round < 2; round++) { // twice: the connection must survive the refusal
                out.writeInt(dev.coffer.agent.nbd.NbdProtocol.REQUEST_MAGIC);
                out.writeShort(0); // command flags
                out.writeShort(1); // NBD_CMD_WRITE
                out.writeLong(42 + round); // cookie
                out.writeLong(0); // offset
                out.writeInt(512);
                out.write(new byte[512]);
                out.flush();
                assertThat(in.readInt()).isEqualTo(dev.coffer.agent.nbd.NbdProtocol.SIMPLE_REPLY_MAGIC);
                assertThat(in.readInt()).as("errno").isEqualTo(1); // EPERM
                assertThat(in.readLong()).isEqualTo(42 + round);
            }
        }
        try (NbdClient c = NbdClient.connect(NbdUri.parse("nbd+unix:///vda?socket=" + dir.resolve("s.sock")))) {
            byte[] b = new byte[512];
            c.read(0, b, 0, 512);
            assertThat(b).isEqualTo(Arrays.copyOf(image, 512));
        }
    }

    @Test
    void shouldRefuseAnUnknownExport() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> NbdClient.connect(NbdUri.parse("nbd+unix:///nope?socket=" + dir.resolve("s.sock"))).close())
                .isInstanceOf(NbdException.class).hasMessageContaining("UNKNOWN");
    }
}
