package dev.coffer.store.http;

import static dev.coffer.store.http.ApiFixture.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FileFormats;
import dev.coffer.store.http.ApiFixture.Resp;
import dev.coffer.store.http.ApiUploads.Disk;
import dev.coffer.store.http.ApiUploads.Session;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup sessions over real HTTPS, each step done wrong once: chunk uploads that lie, bodies that
 * are cut short or too large, index uploads without or with a wrong Content-Length, finishes that
 * reference what was never uploaded, and the conflicts of begin. Each refusal must store and
 * publish nothing.
 */
final class HttpApiUploadTest {

    private static final String DSP = "/api/v1/datastores/" + ApiFixture.DS;

    @TempDir
    static Path dir;
    static ApiFixture f;
    static String token;

    @BeforeAll
    static void start() throws Exception {
        f = ApiFixture.start(dir, Duration.ofMinutes(10));
        token = f.token("host", "backup", "*", null)[1];
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    @AfterEach
    void noSessionLeftOpen() throws Exception {
        f.service().backups().abortAll();
    }

    private static Disk disk(String name, int length, long seed) throws Exception {
        return ApiUploads.disk(dir, name, length, seed);
    }

    private static String chunkFile(Digest d) {
        return d.hex().substring(0, 4) + "/" + d.hex();
    }

    // ---- chunks

    @Test
    void shouldRefuseABlobUploadedUnderAnotherDigest() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/c1", "2026-01-01T00:00:00Z");
        Disk d = disk("drive0", 2 * ApiFixture.CHUNK, 11);
        Digest claimed = d.digests().get(1);
        assertError(s.chunk(claimed, d.blobs().get(0), ApiFixture.CHUNK), 400, "bad-data", claimed.shortHex());
        assertThat(f.chunkFiles()).doesNotContain(chunkFile(claimed), chunkFile(d.digests().get(0)));
        assertThat(f.service().datastore().db().getChunk(claimed)).isNull();
        // and the session goes on: the right upload is taken
        assertThat(s.chunk(claimed, d.blobs().get(1), ApiFixture.CHUNK).json().get("outcome").asText()).isEqualTo("stored");
        assertThat(f.chunkFiles()).contains(chunkFile(claimed));
    }

    @Test
    void shouldRefuseTruncatedAndDamagedBlobs() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/c2", "2026-01-01T00:00:00Z");
        Disk d = disk("drive0", ApiFixture.CHUNK, 12);
        byte[] blob = d.blobs().getFirst();
        Digest digest = d.digests().getFirst();
        assertError(s.chunk(digest, Arrays.copyOf(blob, blob.length - 100), ApiFixture.CHUNK), 400, "bad-data", digest.shortHex());
        assertError(s.chunk(digest, Arrays.copyOf(blob, 5), ApiFixture.CHUNK), 400, "bad-data");
        assertError(s.chunk(digest, new byte[0], ApiFixture.CHUNK), 400, "bad-data");
        byte[] flipped = blob.clone();
        flipped[flipped.length / 2] ^= 1;
        assertError(s.chunk(digest, flipped, ApiFixture.CHUNK), 400, "bad-data");
        assertError(s.chunk(Digest.ZERO, blob, ApiFixture.CHUNK), 400, "bad-data", "zero digest");
        assertThat(f.chunkFiles()).doesNotContain(chunkFile(digest));
    }

    @Test
    void shouldRefuseABlobOverSixteenMebibytesWith413() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/c3", "2026-01-01T00:00:00Z");
        Digest d = disk("drive0", ApiFixture.CHUNK, 13).digests().getFirst();
        TreeSet<String> before = f.chunkFiles();
        assertError(s.chunk(d, new byte[FileFormats.BLOB_MAX_LENGTH + 1], ApiFixture.CHUNK), 413, "too-large");
        assertThat(f.chunkFiles()).isEqualTo(before);
        // the session is unharmed
        assertThat(f.post(s.path + "/heartbeat", token, new byte[0]).status()).isEqualTo(204);
    }

    @Test
    void shouldRefuseAMissingOrGarbageSizeParameter() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/c4", "2026-01-01T00:00:00Z");
        Disk d = disk("drive0", ApiFixture.CHUNK, 14);
        Digest digest = d.digests().getFirst();
        byte[] blob = d.blobs().getFirst();
        assertError(s.chunk(digest, blob, null), 400, "missing-parameter", "'size'");
        assertError(s.chunk(digest, blob, "lots"), 400, "bad-parameter", "'size'", "lots");
        assertError(s.chunk(digest, blob, "99999999999999"), 400, "bad-parameter", "'size'");
        assertError(s.chunk(digest, blob, 0), 400, "bad-chunk-size", "1.." + ApiFixture.CHUNK);
        assertError(s.chunk(digest, blob, ApiFixture.CHUNK + 1), 400, "bad-chunk-size");
        assertError(s.chunk(digest, blob, ApiFixture.CHUNK - 1), 400, "bad-data");
        assertThat(f.chunkFiles()).doesNotContain(chunkFile(digest));
    }

    @Test
    void shouldAnswerUnknownAndMalformedSessionIds() throws Exception {
        Disk d = disk("drive0", ApiFixture.CHUNK, 15);
        Session unknown = new Session(f, token, "0123456789abcdef0123456789abcdef", "vm/x/2026-01-01T00:00:00Z", null);
        assertError(unknown.chunk(d.digests().getFirst(), d.blobs().getFirst(), ApiFixture.CHUNK), 404, "no-such-session",
                unknown.id);
        assertError(unknown.file("drive0.fidx", d.index()), 404, "no-such-session");
        assertError(unknown.finish(List.of(d), Map.of()), 404, "no-such-session");
        assertError(unknown.abort(), 404, "no-such-session");
        assertError(f.post(unknown.path + "/heartbeat", token, new byte[0]), 404, "no-such-session");
        for (String bad : List.of("xyz", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdef0")) {
            Session s = new Session(f, token, bad, "vm/x/2026-01-01T00:00:00Z", null);
            assertError(s.chunk(d.digests().getFirst(), d.blobs().getFirst(), ApiFixture.CHUNK), 400, "bad-session", bad);
            assertError(f.post(s.path + "/heartbeat", token, new byte[0]), 400, "bad-session");
            assertError(s.abort(), 400, "bad-session");
        }
        assertThat(f.chunkFiles()).doesNotContain(chunkFile(d.digests().getFirst()));
        assertThat(f.tmpFiles()).isEmpty();
    }

    @Test
    void shouldForgetAnAbortedSession() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/c6", "2026-01-01T00:00:00Z");
        Disk d = disk("drive0", ApiFixture.CHUNK, 16);
        s.index(d);
        assertThat(f.tmpFiles()).isNotEmpty();
        assertThat(s.abort().status()).isEqualTo(204);
        assertThat(f.tmpFiles()).as("staged files removed").isEmpty();
        assertError(s.finish(List.of(d), Map.of()), 404, "no-such-session");
        assertThat(f.snapshots()).noneMatch(p -> p.contains("c6"));
    }

    // ---- files

    @Test
    void shouldRequireAContentLengthForFileUploads() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/f1", "2026-01-01T00:00:00Z");
        Disk d = disk("drive0", ApiFixture.CHUNK, 21);
        // a body of unknown length goes out chunked, without Content-Length
        Resp r = f.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(f.server.url() + s.path + "/files/drive0.fidx"))
                .header("Authorization", "Bearer " + token)
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(d.index())))
                .build());
        assertError(r, 411, "length-required", "Content-Length");
        assertThat(f.tmpFiles()).isEmpty();
        // the connection pool is still usable afterwards
        assertThat(f.post(s.path + "/heartbeat", token, new byte[0]).status()).isEqualTo(204);
    }

    @Test
    void shouldRefuseAnIndexWhoseContentLengthLies() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/f2", "2026-01-01T00:00:00Z");
        Disk d = disk("drive0", 4 * ApiFixture.CHUNK, 22);
        String put = "PUT " + s.path + "/files/drive0.fidx HTTP/1.1\r\nAuthorization: Bearer " + token;
        // Content-Length shorter than the body: the server reads that many bytes, which are no whole index
        Resp shorter = f.raw(put + "\r\nContent-Length: " + (d.index().length - 64), d.index());
        assertError(shorter, 400, "bad-index", "drive0.fidx");
        // a garbage Content-Length: refused by the HTTP decoder before any route runs (so not JSON)
        assertThat(f.raw(put + "\r\nContent-Length: 12x", d.index()).status()).isEqualTo(400);
        // a body shorter than its Content-Length never completes: the client gives up, nothing stays behind
        f.rawAndHangUp(put + "\r\nContent-Length: " + d.index().length, Arrays.copyOf(d.index(), d.index().length - 64));
        // the server may not have opened its temp file yet: wait for it to be opened and removed
        Thread.sleep(500);
        for (int i = 0; i < 100 && !f.tmpFiles().isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(f.tmpFiles()).as("no upload temp file or staged index").isEmpty();
        // the right upload then goes through
        s.index(d);
        assertThat(f.tmpFiles()).contains(s.id + "/drive0.fidx");
    }

    @Test
    void shouldRefuseFilesOverTheirLimitFromTheHeaderAlone() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/f3", "2026-01-01T00:00:00Z");
        String put = "PUT " + s.path + "/files/";
        assertError(f.raw(put + "domain.xml HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\nContent-Length: "
                + (FileFormats.BLOB_MAX_LENGTH + 1), new byte[0]), 413, "too-large", "domain.xml", "" + FileFormats.BLOB_MAX_LENGTH);
        assertError(f.raw(put + "drive0.fidx HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\nContent-Length: "
                + (BackupRoutes.INDEX_LIMIT + 1), new byte[0]), 413, "too-large", "drive0.fidx", "" + BackupRoutes.INDEX_LIMIT);
        assertThat(f.tmpFiles()).isEmpty();
    }

    @Test
    void shouldRefuseAnInvalidIndex() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/f4", "2026-01-01T00:00:00Z");
        Disk d = disk("drive0", 2 * ApiFixture.CHUNK, 24);
        assertError(s.file("drive0.fidx", Arrays.copyOf(d.index(), d.index().length - 32)), 400, "bad-index", "drive0.fidx");
        assertError(s.file("drive0.fidx", "not an index".getBytes(StandardCharsets.US_ASCII)), 400, "bad-index");
        assertError(s.file("manifest.json", "{}".getBytes(StandardCharsets.US_ASCII)), 400, "bad-name", "finish");
        assertThat(f.tmpFiles()).isEmpty();
    }

    // ---- finish

    @Test
    void shouldRefuseToFinishWithAMissingChunkAndPublishNothing() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/m1", "2026-01-01T00:00:00Z");
        Disk d = disk("drive0", 3 * ApiFixture.CHUNK, 31);
        for (int i = 0; i < 3; i++) {
            if (i != 1) {
                assertThat(s.chunk(d.digests().get(i), d.blobs().get(i), d.lengths().get(i)).status()).isEqualTo(200);
            }
        }
        s.index(d);
        assertError(s.finish(List.of(d), Map.of()), 400, "missing-chunk", d.digests().get(1).hex(), "offset " + ApiFixture.CHUNK);
        assertThat(f.snapshots()).noneMatch(p -> p.startsWith("vm/m1/"));
        assertThat(f.get(DSP + "/snapshots?group=vm/m1", token).json()).isEmpty();
        // the session stays open: upload what is missing and finish
        assertThat(s.chunk(d.digests().get(1), d.blobs().get(1), ApiFixture.CHUNK).status()).isEqualTo(200);
        Resp done = s.finish(List.of(d), Map.of());
        assertThat(done.status()).as("%s", done).isEqualTo(200);
        assertThat(f.get(DSP + "/snapshots?group=vm/m1", token).json()).hasSize(1);
    }

    @Test
    void shouldRefuseAManifestThatDoesNotMatchTheUploads() throws Exception {
        Session s = ApiUploads.session(f, token, "vm/m2", "2026-01-01T00:00:00Z");
        Disk d = disk("drive0", ApiFixture.CHUNK, 32);
        Disk other = disk("drive0", ApiFixture.CHUNK, 33);
        s.chunks(d);
        s.index(d);
        byte[] xml = "<domain/>".getBytes(StandardCharsets.US_ASCII);
        assertThat(s.file("domain.xml", xml).status()).isEqualTo(204);
        // the index in the manifest is another one
        assertError(s.finish(List.of(other), Map.of("domain.xml", xml)), 400, "manifest-mismatch", "drive0.fidx");
        // a file listed differently from what was uploaded
        assertError(s.finish(List.of(d), Map.of("domain.xml", "<domain>x</domain>".getBytes())), 400, "manifest-mismatch",
                "domain.xml");
        // an uploaded file left out
        assertError(s.finish(List.of(d), Map.of()), 400, "manifest-mismatch", "domain.xml");
        // a file listed that never came
        Map<String, byte[]> extra = new LinkedHashMap<>(Map.of("domain.xml", xml));
        extra.put("qemu.args", new byte[] {1});
        assertError(s.finish(List.of(d), extra), 400, "manifest-mismatch", "qemu.args");
        // another restore point's manifest
        assertError(s.finish(ApiUploads.manifest("vm/m2/2026-01-02T00:00:00Z", null, List.of(d), Map.of("domain.xml", xml))),
                400, "manifest-mismatch", "vm/m2/2026-01-02T00:00:00Z");
        // not a manifest at all
        assertError(s.finish("{\"format\":\"nope\"}".getBytes()), 400, "bad-manifest");
        assertThat(f.snapshots()).noneMatch(p -> p.startsWith("vm/m2/"));
        assertThat(s.finish(List.of(d), Map.of("domain.xml", xml)).status()).isEqualTo(200);
    }

    // ---- begin

    @Test
    void shouldRefuseABeginThatIsNotNewerWith409() throws Exception {
        Disk d = disk("drive0", ApiFixture.CHUNK, 41);
        String snap = ApiUploads.backup(f, token, "vm/b1", "2026-01-02T00:00:00Z", d);
        assertError(ApiUploads.begin(f, token, "vm/b1", "2026-01-02T00:00:00Z"), 409, "not-newer", snap);
        assertError(ApiUploads.begin(f, token, "vm/b1", "2026-01-01T00:00:00Z"), 409, "not-newer", snap);
        assertThat(f.service().backups().openCount()).isZero();
        // newer is fine, and names the base
        Session next = ApiUploads.session(f, token, "vm/b1", "2026-01-03T00:00:00Z");
        assertThat(next.base).isEqualTo(snap);
    }

    @Test
    void shouldRefuseASecondWriterOfAGroupWith409() throws Exception {
        Session first = ApiUploads.session(f, token, "vm/b2", "2026-01-01T00:00:00Z");
        assertError(ApiUploads.begin(f, token, "vm/b2", "2026-01-02T00:00:00Z"), 409, "group-busy", "vm/b2", first.id);
        assertThat(f.service().backups().openCount()).isEqualTo(1);
        assertThat(first.abort().status()).isEqualTo(204);
        Session second = ApiUploads.session(f, token, "vm/b2", "2026-01-02T00:00:00Z");
        assertThat(second.abort().status()).isEqualTo(204);
    }
}
