package dev.coffer.store.http;

import static dev.coffer.store.http.ApiFixture.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.http.ApiFixture.Resp;
import dev.coffer.store.http.ApiUploads.Disk;
import dev.coffer.store.http.ApiUploads.Session;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chunk uploads stalled mid-body hold server memory: the store bounds how much, in all and per
 * token, and answers 503 {@code busy} beyond it instead of reading more bodies. A server with a
 * 1 MiB budget (512 KiB per token) and uploads that announce 256 KiB and never finish.
 */
final class HttpApiUploadBudgetTest {

    private static final int STALLED = 256 * 1024;

    @TempDir
    static Path dir;
    static ApiFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = ApiFixture.start(dir, Duration.ofMinutes(10), 1 << 20);
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void shouldRefuseUploadsOverTheBudgetUntilTheStalledOnesGoAway() throws Exception {
        String hostA = f.token("host-a", "backup", "*", null)[1];
        String hostB = f.token("host-b", "backup", "*", null)[1];
        Session a = ApiUploads.session(f, hostA, "vm/a", "2026-01-01T00:00:00Z");
        Session b = ApiUploads.session(f, hostB, "vm/b", "2026-01-01T00:00:00Z");
        Disk da = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 1);
        Disk db = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 2);

        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                stalled.add(stall(a, i));
            }
            awaitHeld(2L * STALLED);

            // host A holds its half: its next upload is refused before its body is read, and says when to retry
            Resp refused = a.chunk(da.digests().getFirst(), da.blobs().getFirst(), ApiFixture.CHUNK);
            assertError(refused, 503, "busy", "retry");
            assertThat(refused.header("retry-after")).isEqualTo("1");
            assertThat(f.metric("coffer_uploads_refused_total")).isPositive();
            // host B is not starved by A
            assertThat(b.chunk(db.digests().getFirst(), db.blobs().getFirst(), ApiFixture.CHUNK).status()).isEqualTo(200);
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
        // the dropped connections give their share back
        awaitHeld(0);
        assertThat(a.chunk(da.digests().getFirst(), da.blobs().getFirst(), ApiFixture.CHUNK).status()).isEqualTo(200);
        a.index(da);
        assertThat(a.finish(List.of(da), java.util.Map.of()).status()).isEqualTo(200);
        assertThat(f.metric("coffer_upload_bytes_held")).isZero();
    }

    @Test
    void shouldHaveTheClientWaitForABusyStoreAndThenUpload() throws Exception {
        String hostC = f.token("host-c", "backup", "*", null)[1];
        Session c = ApiUploads.session(f, hostC, "vm/c", "2026-01-01T00:00:00Z");
        Disk dc = ApiUploads.disk(dir, "drive0", ApiFixture.CHUNK, 3);
        long refusedBefore = f.metric("coffer_uploads_refused_total");
        List<Socket> stalled = new ArrayList<>();
        try (dev.coffer.store.api.StoreClient client = dev.coffer.store.api.StoreClient.connect(
                dev.coffer.store.api.StoreEndpoint.parse(f.server.url() + "/" + ApiFixture.DS, hostC, f.server.fingerprint()), 2)) {
            for (int i = 0; i < 2; i++) {
                stalled.add(stall(c, 10 + i));
            }
            awaitHeld(2L * STALLED);
            java.util.concurrent.CompletableFuture<String> upload = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return client.uploadChunk(c.id, dc.digests().getFirst(), ApiFixture.CHUNK, dc.blobs().getFirst()).outcome();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (f.metric("coffer_uploads_refused_total") < refusedBefore + 2) { // refused, and retried
                assertThat(System.nanoTime()).as("the client retries a busy store").isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(upload).isNotDone();
            for (Socket s : stalled) {
                s.close();
            }
            assertThat(upload.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("stored");
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
    }

    @Test
    void shouldKeepTheTotalWithinTheBudgetAcrossTokens() {
        UploadBudget budget = new UploadBudget(1000);
        assertThat(budget.tryReserve("a", 500)).isTrue();
        assertThat(budget.tryReserve("a", 1)).as("half per token").isFalse();
        assertThat(budget.tryReserve("b", 400)).isTrue();
        assertThat(budget.tryReserve("c", 101)).as("the total").isFalse();
        assertThat(budget.tryReserve("c", 100)).isTrue();
        assertThat(budget.used()).isEqualTo(1000);
        budget.release("a", 500);
        budget.release("b", 400);
        budget.release("c", 100);
        assertThat(budget.used()).isZero();
        assertThat(budget.tryReserve("a", 500)).isTrue();
        assertThat(UploadBudget.forHeap(128L << 20).total()).as("at least 64 MiB").isEqualTo(64L << 20);
        assertThat(UploadBudget.forHeap(4L << 30).total()).isEqualTo(1L << 30);
    }

    /** A chunk upload of {@value #STALLED} announced bytes that sends 1000 and then waits. */
    private static Socket stall(Session s, int i) throws Exception {
        Socket socket = f.tls.getSocketFactory().createSocket("127.0.0.1", f.server.port());
        OutputStream out = socket.getOutputStream();
        String digest = String.format("%064x", i + 1);
        out.write(("PUT " + s.path + "/chunks/" + digest + "?size=" + ApiFixture.CHUNK + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer " + s.token + "\r\nContent-Length: " + STALLED + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(new byte[1000]);
        out.flush();
        return socket;
    }

    private static void awaitHeld(long bytes) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (f.metric("coffer_upload_bytes_held") != bytes) {
            assertThat(System.nanoTime()).as("upload bytes held reach %d (now %d)", bytes, f.metric("coffer_upload_bytes_held"))
                    .isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
