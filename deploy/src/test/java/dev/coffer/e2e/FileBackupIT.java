package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static dev.coffer.e2e.CofferProcess.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup and restore of image files through real processes: one {@code coffer server} for the
 * class, and {@code coffer backup/restore/snapshots/token/key} as separate client processes.
 */
final class FileBackupIT {

    private static final int CS = 64 * 1024;

    @TempDir
    static Path work;
    static CofferProcess.Server server;
    static Map<String, String> admin;

    @BeforeAll
    static void start() throws Exception {
        server = CofferProcess.server(work, "--datastore", work.resolve("ds").toString(), "--chunk-size", Integer.toString(CS));
        assertThat(server.start.get("token").asText()).startsWith("coffer_");
        assertThat(server.store()).startsWith("https://127.0.0.1:");
        admin = server.env(server.start.get("token").asText());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void shouldBackUpOnlyDataAndOnlyChangesAndRestoreBitIdentical() throws Exception {
        Path img = Images.sparse(work.resolve("a.img"), 64L << 20, 1, 0, 1 << 20, 10L << 20, 3 << 20, 40L << 20, 100_000);
        JsonNode first = ok(admin, "backup", "vm/1", "--source", "file:" + img, "--json").json();
        JsonNode d0 = first.get("disks").get(0);
        assertThat(d0.get("mode").asText()).isEqualTo("full");
        assertThat(d0.get("reason").asText()).isEqualTo("no-base");
        assertThat(d0.get("size").asLong()).isEqualTo(64L << 20);
        assertThat(d0.get("read_bytes").asLong()).as("holes are skipped unread").isLessThan(5L << 20);
        long chunksWithData = d0.get("uploaded_chunks").asLong();
        assertThat(chunksWithData).isEqualTo(16 + 48 + 2);

        Images.scribble(img, 10L << 20, 10, 2); // one chunk changes
        Thread.sleep(1100); // restore point times have whole seconds
        JsonNode second = ok(admin, "backup", "vm/1", "--source", "file:" + img, "--json").json();
        JsonNode d1 = second.get("disks").get(0);
        assertThat(d1.get("mode").asText()).isEqualTo("diff");
        assertThat(d1.get("uploaded_chunks").asLong()).isEqualTo(1);
        assertThat(d1.get("read_bytes").asLong()).isEqualTo(chunksWithData * CS);
        assertThat(d1.get("reused_bytes").asLong()).isEqualTo((chunksWithData - 1) * CS);

        Path out = work.resolve("a.out");
        JsonNode restored = ok(admin, "restore", second.get("snapshot").asText(), "--to", "file:" + out, "--json").json();
        assertThat(restored.get("disks").get(0).get("zero_bytes").asLong()).isGreaterThan(50L << 20);
        assertThat(Images.sha256(out)).isEqualTo(Images.sha256(img));

        // the first restore point is still the first image
        Path old = work.resolve("a.old");
        ok(admin, "restore", first.get("snapshot").asText(), "--disk", "drive0", "--to", "file:" + old);
        assertThat(Images.sha256(old)).isNotEqualTo(Images.sha256(img));
        Images.scribble(old, 10L << 20, 10, 2);
        assertThat(Images.sha256(old)).isEqualTo(Images.sha256(img));
    }

    /**
     * A chunk that occurs several times in a disk is fetched once: the restore copies it on the
     * target from its first place, after checking it there against its digest (keyed when
     * encrypted), and says so in reused_bytes.
     */
    @Test
    void shouldFetchARepeatedChunkOnceAndCopyItOnTheTarget() throws Exception {
        Path img = Images.sparse(work.resolve("r.img"), 8L << 20, 21, 0, 3 * CS, 4L << 20, CS);
        byte[] repeated = new byte[CS];
        new java.util.SplittableRandom(22).nextBytes(repeated);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
            for (long at : new long[] {CS, 1L << 20, 3L << 20, (8L << 20) - CS}) {
                f.seek(at);
                f.write(repeated);
            }
        }
        Map<String, String> keyed = new HashMap<>(admin);
        Path key = work.resolve("r-key.json");
        ok(admin, "key", "create", key.toString(), "--no-passphrase");
        keyed.put("COFFER_KEYFILE", key.toString());
        for (Map<String, String> env : List.of(admin, keyed)) {
            String group = env == admin ? "vm/20" : "vm/21";
            String snapshot = ok(env, "backup", group, "--source", "file:" + img, "--json").json().get("snapshot").asText();
            Path out = work.resolve(group.replace('/', '-') + ".out");
            JsonNode d = ok(env, "restore", snapshot, "--to", "file:" + out, "--json").json().get("disks").get(0);
            assertThat(d.get("reused_bytes").asLong()).as("%s: three of the four copies come from the first", group)
                    .isEqualTo(3L * CS);
            assertThat(d.get("written_bytes").asLong()).isEqualTo(7L * CS);
            assertThat(Images.sha256(out)).isEqualTo(Images.sha256(img));
        }
    }

    @Test
    void shouldKeepSeveralDisksAndConfigFilesInOneRestorePoint() throws Exception {
        Path a = Images.sparse(work.resolve("m1.img"), 8L << 20, 3, 0, 2 << 20);
        Path b = Images.sparse(work.resolve("m2.img"), 4L << 20, 4, 1 << 20, 1 << 20);
        Path xml = Files.writeString(work.resolve("domain.xml"), "<domain><name>m</name></domain>");
        JsonNode r = ok(admin, "backup", "vm/2", "--source", "root=file:" + a, "--source", "data=file:" + b,
                "--config", xml.toString(), "--json").json();
        assertThat(r.get("disks")).extracting(d -> d.get("name").asText()).containsExactly("root", "data");
        JsonNode list = ok(admin, "snapshots", "vm/2", "--json").json();
        assertThat(list).hasSize(1);
        JsonNode s = list.get(0);
        assertThat(s.get("snapshot").asText()).isEqualTo(r.get("snapshot").asText());
        assertThat(s.get("group").asText()).isEqualTo("vm/2");
        assertThat(s.get("crypt").asText()).isEqualTo("none");
        assertThat(s.get("verify").asText()).isEqualTo("none");
        assertThat(s.get("protected").asBoolean()).isFalse();
        assertThat(s.get("disks")).extracting(d -> d.get("size").asLong()).containsExactly(8L << 20, 4L << 20);
        Path out = work.resolve("m2.out");
        ok(admin, "restore", s.get("snapshot").asText(), "--disk", "data", "--to", "file:" + out);
        assertThat(Images.sha256(out)).isEqualTo(Images.sha256(b));
        Path all = work.resolve("all");
        JsonNode restoredAll = ok(admin, "restore", s.get("snapshot").asText(), "--all", "--to-dir", all.toString(), "--verify",
                "--json").json();
        assertThat(restoredAll.get("disks")).extracting(x -> x.get("verified").asBoolean()).containsExactly(true, true);
        assertThat(Images.sha256(all.resolve("root.raw"))).isEqualTo(Images.sha256(a));
        assertThat(Images.sha256(all.resolve("data.raw"))).isEqualTo(Images.sha256(b));
        assertThat(all.resolve("domain.xml")).hasContent("<domain><name>m</name></domain>");
        CofferProcess.Run again = run(admin, "restore", s.get("snapshot").asText(), "--all", "--to-dir", all.toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("--overwrite");
        CofferProcess.Run noDisk = run(admin, "restore", s.get("snapshot").asText(), "--to", "file:" + work.resolve("x"));
        assertThat(noDisk.code()).isEqualTo(1);
        assertThat(noDisk.err()).contains("has 2 disks; choose one with --disk (root, data)");
    }

    @Test
    void shouldEncryptWithAKeyThatNeverLeavesTheClient() throws Exception {
        Map<String, String> env = new HashMap<>(admin);
        env.put("COFFER_PASSPHRASE", "correct horse battery");
        Path key = work.resolve("key.json");
        JsonNode created = ok(env, "key", "create", key.toString(), "--json").json();
        env.put("COFFER_KEYFILE", key.toString());
        Path img = Images.sparse(work.resolve("e.img"), 4L << 20, 5, 0, 4 << 20);
        JsonNode r = ok(env, "backup", "vm/3", "--source", "file:" + img, "--json").json();
        JsonNode s = ok(admin, "snapshots", "vm/3", "--json").json().get(0);
        assertThat(s.get("crypt").asText()).isEqualTo("encrypt");

        Path out = work.resolve("e.out");
        ok(env, "restore", r.get("snapshot").asText(), "--to", "file:" + out, "--verify");
        assertThat(Images.sha256(out)).isEqualTo(Images.sha256(img));

        // config files of an encrypted backup are encrypted too: the store never sees their text
        Path xml = Files.writeString(work.resolve("domain.xml"), "<domain><name>secret-db-host</name></domain>");
        JsonNode withConfig = ok(env, "backup", "vm/3", "--source", "file:" + img, "--config", xml.toString(), "--json").json();
        Path all = work.resolve("e-all");
        ok(env, "restore", withConfig.get("snapshot").asText(), "--all", "--to-dir", all.toString());
        assertThat(all.resolve("domain.xml")).hasContent("<domain><name>secret-db-host</name></domain>");
        Path stored = work.resolve("ds").resolve(withConfig.get("snapshot").asText()).resolve("domain.xml");
        assertThat(stored).exists();
        assertThat(Files.readString(stored, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("secret-db-host");
        CofferProcess.Run configNoKey = run(admin, "restore", withConfig.get("snapshot").asText(), "--all", "--to-dir",
                work.resolve("e-all2").toString());
        assertThat(configNoKey.code()).isEqualTo(1);
        assertThat(configNoKey.err()).contains("COFFER_KEYFILE");

        CofferProcess.Run noKey = run(admin, "restore", r.get("snapshot").asText(), "--to", "file:" + work.resolve("e2"));
        assertThat(noKey.code()).isEqualTo(1);
        assertThat(noKey.err()).contains("is encrypted").contains(created.get("fingerprint").asText()).contains("COFFER_KEYFILE");

        Map<String, String> wrongPass = new HashMap<>(env);
        wrongPass.put("COFFER_PASSPHRASE", "wrong");
        CofferProcess.Run bad = run(wrongPass, "restore", r.get("snapshot").asText(), "--to", "file:" + work.resolve("e3"));
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("wrong passphrase");

        Map<String, String> otherKey = new HashMap<>(env);
        Path key2 = work.resolve("key2.json");
        ok(otherKey, "key", "create", key2.toString());
        otherKey.put("COFFER_KEYFILE", key2.toString());
        CofferProcess.Run wrong = run(otherKey, "restore", r.get("snapshot").asText(), "--to", "file:" + work.resolve("e4"));
        assertThat(wrong.code()).isEqualTo(1);
        assertThat(wrong.err()).contains("not with the given key");
        // nothing of the plaintext reached the store: no chunk file holds the image's bytes
        byte[] probe = java.util.Arrays.copyOf(Files.readAllBytes(img), 64);
        try (var files = Files.walk(work.resolve("ds").resolve("chunks"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(indexOf(Files.readAllBytes(f), probe)).as(f.toString()).isNegative();
            }
        }
        // the same group backed up without the key cannot reuse the encrypted chunks, and says why
        JsonNode plainAfter = ok(admin, "backup", "vm/3", "--source", "file:" + img, "--json").json();
        assertThat(plainAfter.get("disks").get(0).get("mode").asText()).isEqualTo("full");
        assertThat(plainAfter.get("disks").get(0).get("reason").asText()).isEqualTo("key-changed");
    }

    @Test
    void shouldRefuseWrongFingerprintsTokensAndRoles() throws Exception {
        Path img = Images.sparse(work.resolve("t.img"), 1 << 20, 6, 0, 1 << 20);
        Map<String, String> pinned = new HashMap<>(admin);
        pinned.put("COFFER_FINGERPRINT", "00".repeat(32));
        CofferProcess.Run mitm = run(pinned, "snapshots");
        assertThat(mitm.code()).isEqualTo(1);
        assertThat(mitm.err()).contains("refusing to connect").contains(server.fingerprint());

        CofferProcess.Run badToken = run(server.env("coffer_000000000000_nope"), "snapshots");
        assertThat(badToken.code()).isEqualTo(1);
        assertThat(badToken.err()).contains("401").contains("no valid token");

        JsonNode t = ok(admin, "token", "create", "host-a", "--grant", "default=backup", "--json").json();
        Map<String, String> host = server.env(t.get("token").asText());
        JsonNode r = ok(host, "backup", "vm/4", "--source", "file:" + img, "--json").json();
        assertThat(ok(host, "snapshots", "--json").json()).extracting(s -> s.get("group").asText()).containsExactly("vm/4");

        JsonNode t2 = ok(admin, "token", "create", "host-b", "--grant", "default=backup", "--json").json();
        Map<String, String> other = server.env(t2.get("token").asText());
        CofferProcess.Run steal = run(other, "backup", "vm/4", "--source", "file:" + img);
        assertThat(steal.code()).isEqualTo(1);
        assertThat(steal.err()).contains("403").contains("belongs to another token");
        CofferProcess.Run peek = run(other, "restore", r.get("snapshot").asText(), "--to", "file:" + work.resolve("peek"));
        assertThat(peek.code()).isEqualTo(1);
        assertThat(peek.err()).contains("403");
        CofferProcess.Run mint = run(host, "token", "create", "evil", "--grant", "*=admin");
        assertThat(mint.code()).isEqualTo(1);
        assertThat(mint.err()).contains("403");

        ok(admin, "token", "revoke", t.get("id").asText());
        CofferProcess.Run revoked = run(host, "snapshots");
        assertThat(revoked.code()).isEqualTo(1);
        assertThat(revoked.err()).contains("401");
    }

    @Test
    void shouldStoreOnceButReuseOnlyAGroupsOwnChunksByDefault() throws Exception {
        Path img = Images.sparse(work.resolve("s.img"), 2L << 20, 8, 0, 2 << 20);
        ok(admin, "backup", "vm/20", "--source", "file:" + img);
        long files = chunkFiles();
        // dedup-scope session (the default): another group's first backup uploads every chunk,
        // which leaks nothing about what other groups hold; the store still keeps one copy
        JsonNode r = ok(admin, "backup", "vm/21", "--source", "file:" + img, "--json").json();
        assertThat(r.get("disks").get(0).get("uploaded_chunks").asLong()).isEqualTo(32);
        assertThat(chunkFiles()).isEqualTo(files);
    }

    static long chunkFiles() throws Exception {
        try (var files = Files.walk(work.resolve("ds").resolve("chunks"))) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
