package dev.coffer.store.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FixedIndex;
import dev.coffer.chunker.FixedIndexWriter;
import dev.coffer.chunker.GroupId;
import dev.coffer.chunker.Manifest;
import dev.coffer.chunker.ManifestBuilder;
import dev.coffer.chunker.ManifestDisk;
import dev.coffer.chunker.ManifestFile;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.http.ApiFixture.Resp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * Valid uploads made with the chunker's own classes, and a backup client over raw HTTP that does
 * each step as a separate call, so a test can do every step right but one.
 */
final class ApiUploads {

    private static final ChunkCodec CODEC = ChunkCodec.create(null);

    private ApiUploads() {}

    /** One disk image cut into chunks, its blobs and its fixed index. */
    record Disk(String name, byte[] image, List<Digest> digests, List<byte[]> blobs, List<Integer> lengths, byte[] index,
            Digest checksum) {

        ManifestDisk entry(boolean hasBase) {
            return new ManifestDisk(name, image.length, new ManifestDisk.IndexRef(name + ".fidx", index.length, checksum),
                    hasBase ? ManifestDisk.Mode.DIFF : ManifestDisk.Mode.FULL, hasBase ? "no-bitmap" : "no-base", null, Map.of());
        }
    }

    /** A disk of {@code length} random bytes (seeded), in chunks of {@link ApiFixture#CHUNK}. */
    static Disk disk(Path work, String name, int length, long seed) throws Exception {
        byte[] image = new byte[length];
        new Random(seed).nextBytes(image);
        return disk(work, name, image);
    }

    static Disk disk(Path work, String name, byte[] image) throws Exception {
        int cs = ApiFixture.CHUNK;
        long n = FixedIndex.chunkCount(image.length, cs);
        List<Digest> digests = new ArrayList<>();
        List<byte[]> blobs = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        Path idx = Files.createTempFile(work, name, ".fidx");
        Files.delete(idx);
        Digest checksum;
        try (FixedIndexWriter w = FixedIndexWriter.create(idx, UUID.randomUUID(), Instant.now(), image.length, cs)) {
            for (long i = 0; i < n; i++) {
                int len = FixedIndex.chunkLength(image.length, cs, i);
                int off = (int) (i * cs);
                Digest d = CODEC.digest(image, off, len);
                digests.add(d);
                blobs.add(CODEC.encode(image, off, len));
                lengths.add(len);
                w.append(d);
            }
            checksum = w.finish();
        }
        byte[] index = Files.readAllBytes(idx);
        Files.delete(idx);
        return new Disk(name, image, digests, blobs, lengths, index, checksum);
    }

    /** A manifest for {@code snapshot} listing {@code disks} and {@code files} (name → bytes). */
    static byte[] manifest(String snapshot, String parent, List<Disk> disks, Map<String, byte[]> files) {
        ManifestBuilder b = Manifest.builder().snapshot(SnapshotId.parsePath(snapshot)).chunkSize(ApiFixture.CHUNK)
                .createdBy("HttpApiTest");
        if (parent != null) {
            b.parent(SnapshotId.parsePath(parent));
        }
        for (Disk d : disks) {
            b.addDisk(d.entry(parent != null));
        }
        files.forEach((name, bytes) -> b.addFile(new ManifestFile(name, bytes.length, sha256(bytes))));
        return b.sign(null).toBytes();
    }

    static Digest sha256(byte[] bytes) {
        try {
            return Digest.of(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A backup session seen from the client: its paths and one method per step. */
    static final class Session {
        final ApiFixture f;
        final String token;
        final String id;
        final String path;
        final String snapshot;
        final String base;

        Session(ApiFixture f, String token, String id, String snapshot, String base) {
            this.f = f;
            this.token = token;
            this.id = id;
            this.path = "/api/v1/datastores/" + ApiFixture.DS + "/backups/" + id;
            this.snapshot = snapshot;
            this.base = base;
        }

        Resp chunk(Digest d, byte[] blob, Object size) throws Exception {
            return f.send("PUT", path + "/chunks/" + d.hex() + (size == null ? "" : "?size=" + size), token, blob);
        }

        void chunks(Disk disk) throws Exception {
            for (int i = 0; i < disk.digests().size(); i++) {
                Resp r = chunk(disk.digests().get(i), disk.blobs().get(i), disk.lengths().get(i));
                assertThat(r.status()).as("upload chunk %d: %s", i, r).isEqualTo(200);
            }
        }

        Resp file(String name, byte[] bytes) throws Exception {
            return f.send("PUT", path + "/files/" + name, token, bytes);
        }

        void index(Disk disk) throws Exception {
            Resp r = file(disk.name() + ".fidx", disk.index());
            assertThat(r.status()).as("upload index: %s", r).isEqualTo(204);
        }

        Resp finish(byte[] manifest) throws Exception {
            return f.send("POST", path + "/finish", token, manifest);
        }

        Resp finish(List<Disk> disks, Map<String, byte[]> files) throws Exception {
            return finish(manifest(snapshot, base, disks, files));
        }

        Resp abort() throws Exception {
            return f.send("DELETE", path, token, null);
        }
    }

    static Resp begin(ApiFixture f, String token, String group, String time) throws Exception {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("group", group);
        req.put("time", time);
        return f.post("/api/v1/datastores/" + ApiFixture.DS + "/backups", token, req);
    }

    /** Begins a backup that must succeed. */
    static Session session(ApiFixture f, String token, String group, String time) throws Exception {
        Resp r = begin(f, token, group, time);
        assertThat(r.status()).as("begin %s %s: %s", group, time, r).isEqualTo(201);
        String base = r.json().get("base").isNull() ? null : r.json().get("base").asText();
        return new Session(f, token, r.json().get("session").asText(),
                SnapshotId.of(GroupId.parse(null, group), SnapshotId.parseTime(time)).path(), base);
    }

    /** A whole, valid backup of one disk; returns the restore point's path. */
    static String backup(ApiFixture f, String token, String group, String time, Disk disk) throws Exception {
        Session s = session(f, token, group, time);
        s.chunks(disk);
        s.index(disk);
        Resp r = s.finish(List.of(disk), Map.of());
        assertThat(r.status()).as("finish: %s", r).isEqualTo(200);
        return r.json().get("snapshot").asText();
    }
}
