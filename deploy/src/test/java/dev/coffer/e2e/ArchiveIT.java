package dev.coffer.e2e;

import static dev.coffer.e2e.CofferProcess.ok;
import static dev.coffer.e2e.CofferProcess.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Moving restore points as one file, through real processes: two servers, {@code coffer export}
 * piped into {@code coffer import}, restore from the second store and from the archive file,
 * encrypted restore points staying ciphertext, and a damaged archive checked, refused and salvaged.
 */
final class ArchiveIT {

    private static final int CS = 64 * 1024;

    @TempDir
    static Path work;
    static CofferProcess.Server a;
    static CofferProcess.Server b;
    static CofferProcess.Server c;
    static Map<String, String> envA;
    static Map<String, String> envB;
    static Map<String, String> envC;

    @BeforeAll
    static void start() throws Exception {
        a = CofferProcess.server(work, "--datastore", work.resolve("dsa").toString(), "--chunk-size", Integer.toString(CS));
        b = CofferProcess.server(work, "--datastore", work.resolve("dsb").toString(), "--chunk-size", Integer.toString(CS),
                "--dedup-scope", "datastore");
        c = CofferProcess.server(work, "--datastore", work.resolve("dsc").toString(), "--chunk-size", Integer.toString(CS));
        envA = a.env(a.start.get("token").asText());
        envB = b.env(b.start.get("token").asText());
        envC = c.env(c.start.get("token").asText());
    }

    @AfterAll
    static void stop() throws Exception {
        a.close();
        b.close();
        c.close();
    }

    /** 8 MiB, mostly holes: 1 MiB of random data at 0, the same MiB again at 4 MiB, 100 000 bytes at 7 MiB. */
    static Path image(Path p, long seed) throws Exception {
        byte[] mib = new byte[1 << 20];
        new Random(seed).nextBytes(mib);
        byte[] tail = new byte[100_000];
        new Random(seed + 1).nextBytes(tail);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(8L << 20);
            f.seek(0);
            f.write(mib);
            f.seek(4L << 20);
            f.write(mib);
            f.seek(7L << 20);
            f.write(tail);
        }
        return p;
    }

    /** Runs {@code coffer export SNAP -o -} on A piped into {@code coffer import -} on B, as {@code export | import} in a shell. */
    static JsonNode pipe(String snapshot) throws Exception {
        ProcessBuilder export = builder(envA, "export", snapshot, "-o", "-", "--json");
        export.redirectError(work.resolve("export.err").toFile());
        ProcessBuilder imp = builder(envB, "import", "-", "--json");
        Path out = work.resolve("import.out");
        imp.redirectOutput(out.toFile()).redirectError(work.resolve("import.err").toFile());
        List<Process> ps = ProcessBuilder.startPipeline(List.of(export, imp));
        for (Process p : ps) {
            assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(ps.get(0).exitValue()).as("export: %s", Files.readString(work.resolve("export.err"))).isZero();
        assertThat(ps.get(1).exitValue()).as("import: %s", Files.readString(work.resolve("import.err"))).isZero();
        JsonNode exported = CofferProcess.JSON.readTree(Files.readString(work.resolve("export.err")));
        JsonNode imported = CofferProcess.JSON.readTree(Files.readString(out));
        assertThat(imported.get("records").asLong()).isEqualTo(exported.get("records").asLong());
        assertThat(imported.get("bytes").asLong()).isEqualTo(exported.get("bytes").asLong());
        return imported;
    }

    static ProcessBuilder builder(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(CofferProcess.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("COFFER_"));
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs a client command with {@code input} as its standard input: {@code [exit code, stdout, stderr]}. */
    static String[] runWithStdin(Path input, String... args) throws Exception {
        Path out = Files.createTempFile(work, "stdin-out", ".txt");
        Path err = Files.createTempFile(work, "stdin-err", ".txt");
        Process p = builder(Map.of(), args).redirectInput(input.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(180, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return new String[] {Integer.toString(p.exitValue()), Files.readString(out), Files.readString(err)};
    }

    @Test
    void shouldMoveRestorePointsThroughAPipeAndRestoreFromTheArchive() throws Exception {
        Path img = image(work.resolve("p.img"), 1);
        Path xml = Files.writeString(work.resolve("domain.xml"), "<domain><name>p</name></domain>");
        String first = ok(envA, "backup", "vm/11", "--source", "file:" + img, "--config", xml.toString(), "--json").json()
                .get("snapshot").asText();
        String firstSum = Images.sha256(img);
        Images.scribble(img, 7L << 20, 10, 3);
        Thread.sleep(1100);
        String second = ok(envA, "backup", "vm/11", "--source", "file:" + img, "--config", xml.toString(), "--json").json()
                .get("snapshot").asText();

        // the newer restore point first, then the older one: import keeps original times, older ones included
        JsonNode imp = pipe(second);
        assertThat(imp.get("snapshot").asText()).isEqualTo(second);
        assertThat(imp.get("records").asLong()).as("16 + 2 distinct chunks; the repeated MiB once").isEqualTo(18);
        assertThat(imp.get("stored_chunks").asLong()).isEqualTo(18);
        JsonNode imp2 = pipe(first);
        // the scribble changed only the chunk at 7 MiB: that one is new to store B, the other 17 it holds,
        // and with dedup-scope datastore they are not even sent
        assertThat(imp2.get("stored_chunks").asLong()).as("only missing chunks are stored").isEqualTo(1);
        assertThat(imp2.get("kept_chunks").asLong()).isEqualTo(17);
        assertThat(imp2.get("uploaded_chunks").asLong()).isEqualTo(1);
        // with the default scope every record travels, and the server keeps what it holds
        ok(envC, "import", archive(second, "c2.cfa").toString());
        JsonNode c1 = ok(envC, "import", archive(first, "c1.cfa").toString(), "--json").json();
        assertThat(c1.get("uploaded_chunks").asLong()).isEqualTo(18);
        assertThat(c1.get("stored_chunks").asLong()).isEqualTo(1);
        assertThat(c1.get("kept_chunks").asLong()).isEqualTo(17);
        JsonNode list = ok(envB, "snapshots", "vm/11", "--json").json();
        assertThat(list).extracting(s -> s.get("snapshot").asText()).containsExactly(first, second);
        CofferProcess.Run again = run(envB, "import", archive(second, "again.cfa").toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("snapshot-exists");

        Path fromB = work.resolve("fromB.raw");
        ok(envB, "restore", second, "--to", "file:" + fromB);
        assertThat(Images.sha256(fromB)).isEqualTo(Images.sha256(img));
        Path oldFromB = work.resolve("oldFromB.raw");
        ok(envB, "restore", first, "--to", "file:" + oldFromB);
        assertThat(Images.sha256(oldFromB)).isEqualTo(firstSum);

        Path file = archive(second, "p.cfa");
        JsonNode check = ok(Map.of(), "archive", "check", file.toString(), "--json").json();
        assertThat(check.get("ok").asBoolean()).isTrue();
        assertThat(check.get("snapshot").asText()).isEqualTo(second);
        assertThat(check.get("records").asLong()).isEqualTo(18);
        // the same check of the archive read from a pipe (standard input), as from tape or ssh
        String[] piped = runWithStdin(file, "archive", "check", "-", "--json");
        assertThat(piped[0]).as(piped[2]).isEqualTo("0");
        JsonNode pipedCheck = new com.fasterxml.jackson.databind.ObjectMapper().readTree(piped[1]);
        assertThat(pipedCheck.get("ok").asBoolean()).isTrue();
        assertThat(pipedCheck.get("records").asLong()).isEqualTo(18);
        Path dir = work.resolve("from-archive");
        JsonNode restored = ok(Map.of(), "restore", second, "--from-archive", file.toString(), "--all", "--to-dir", dir.toString(),
                "--verify", "--json").json();
        assertThat(restored.get("disks").get(0).get("verified").asBoolean()).isTrue();
        assertThat(Images.sha256(dir.resolve("drive0.raw"))).isEqualTo(Images.sha256(img));
        assertThat(dir.resolve("domain.xml")).hasContent("<domain><name>p</name></domain>");
        CofferProcess.Run wrong = run(Map.of(), "restore", first, "--from-archive", file.toString(), "--to", "file:" + work.resolve("w"));
        assertThat(wrong.code()).isEqualTo(1);
        assertThat(wrong.err()).contains("holds restore point " + second);
    }

    @Test
    void shouldKeepAnEncryptedRestorePointEncryptedInTheArchive() throws Exception {
        Map<String, String> env = new HashMap<>(envA);
        env.put("COFFER_PASSPHRASE", "archive passphrase");
        Path key = work.resolve("key.json");
        ok(env, "key", "create", key.toString());
        env.put("COFFER_KEYFILE", key.toString());
        Path img = image(work.resolve("e.img"), 5);
        Path xml = Files.writeString(work.resolve("vm12.xml"), "<domain><name>vm12-private-name</name></domain>");
        String snap = ok(env, "backup", "vm/12", "--source", "file:" + img, "--config", xml.toString(), "--json").json()
                .get("snapshot").asText();
        Path file = archive(snap, "e.cfa");
        byte[] archive = Files.readAllBytes(file);
        byte[] plainStart = java.util.Arrays.copyOf(Files.readAllBytes(img), 256);
        assertThat(indexOf(archive, plainStart)).as("no plaintext of the disk in the archive").isEqualTo(-1);
        assertThat(indexOf(archive, "vm12-private-name".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .as("no plaintext of the config file in the archive").isEqualTo(-1);
        assertThat(ok(Map.of(), "archive", "check", file.toString(), "--json").json().get("crypt").asText()).isEqualTo("encrypt");

        ok(envB, "import", file.toString());
        Map<String, String> keyB = new HashMap<>(envB);
        keyB.put("COFFER_PASSPHRASE", "archive passphrase");
        keyB.put("COFFER_KEYFILE", key.toString());
        Path fromB = work.resolve("eFromB.raw");
        ok(keyB, "restore", snap, "--to", "file:" + fromB);
        assertThat(Images.sha256(fromB)).isEqualTo(Images.sha256(img));

        CofferProcess.Run noKey = run(Map.of(), "restore", snap, "--from-archive", file.toString(), "--to", "file:" + work.resolve("nk"));
        assertThat(noKey.code()).isEqualTo(1);
        assertThat(noKey.err()).contains("is encrypted").contains("COFFER_KEYFILE");
        Map<String, String> keyOnly = Map.of("COFFER_PASSPHRASE", "archive passphrase", "COFFER_KEYFILE", key.toString());
        Path out = work.resolve("eFromArchive.raw");
        ok(keyOnly, "restore", snap, "--from-archive", file.toString(), "--to", "file:" + out);
        assertThat(Images.sha256(out)).isEqualTo(Images.sha256(img));
        Path dir = work.resolve("eAll");
        ok(keyOnly, "restore", snap, "--from-archive", file.toString(), "--all", "--to-dir", dir.toString());
        assertThat(dir.resolve("vm12.xml")).hasContent("<domain><name>vm12-private-name</name></domain>");
        Path dirB = work.resolve("eAllB");
        ok(keyB, "restore", snap, "--all", "--to-dir", dirB.toString());
        assertThat(dirB.resolve("vm12.xml")).hasContent("<domain><name>vm12-private-name</name></domain>");
    }

    @Test
    void shouldReportRefuseAndSalvageADamagedArchive() throws Exception {
        Path img = image(work.resolve("d.img"), 9);
        String snap = ok(envA, "backup", "vm/13", "--source", "file:" + img, "--json").json().get("snapshot").asText();
        Path file = archive(snap, "d.cfa");
        byte[] bytes = Files.readAllBytes(file);
        // damage the middle of the third chunk record: the archive's chunks follow the header in index order
        long third = nthFrame(bytes, 3);
        bytes[(int) third + 2000] ^= 0x55;
        Path damaged = Files.write(work.resolve("damaged.cfa"), bytes);

        CofferProcess.Run strict = run(Map.of(), "archive", "check", damaged.toString());
        assertThat(strict.code()).isEqualTo(1);
        assertThat(strict.err()).contains("at offset " + third).contains("CRC32C mismatch");
        String[] strictPiped = runWithStdin(damaged, "archive", "check", "-");
        assertThat(strictPiped[0]).isEqualTo("1");
        assertThat(strictPiped[2]).contains("standard input").contains("at offset " + third).contains("CRC32C mismatch");
        CofferProcess.Run salvage = run(Map.of(), "archive", "check", damaged.toString(), "--salvage", "--json");
        assertThat(salvage.code()).isEqualTo(1);
        JsonNode report = salvage.json();
        assertThat(report.get("damage").get(0).get("offset").asLong()).isEqualTo(third);
        assertThat(report.get("lost_chunks").asLong()).as("the chunk at 128 KiB, and its copy at 4 MiB + 128 KiB").isEqualTo(2);
        assertThat(report.get("lost")).extracting(l -> l.get("offset").asLong()).containsExactly(2L * CS, (4L << 20) + 2 * CS);

        int before = ok(envB, "snapshots", "--json").json().size();
        CofferProcess.Run imp = run(envB, "import", damaged.toString());
        assertThat(imp.code()).isEqualTo(1);
        assertThat(imp.err()).contains("at offset " + third);
        assertThat(ok(envB, "snapshots", "--json").json()).as("nothing published").hasSize(before);

        CofferProcess.Run refused = run(Map.of(), "restore", snap, "--from-archive", damaged.toString(), "--to", "file:" + work.resolve("r1"));
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).contains("offset " + 2 * CS).contains("CRC32C mismatch");
        Path out = work.resolve("salvaged.raw");
        CofferProcess.Run saved = run(Map.of(), "restore", snap, "--from-archive", damaged.toString(), "--salvage", "--to", "file:" + out,
                "--json");
        assertThat(saved.code()).isEqualTo(1);
        assertThat(saved.json().get("lost_chunks").asLong()).isEqualTo(2);
        assertThat(saved.err()).contains("2 chunk(s) were lost");
        // everything but the two lost chunks is the disk; those read as zeros
        byte[] want = Files.readAllBytes(img);
        java.util.Arrays.fill(want, 2 * CS, 3 * CS, (byte) 0);
        java.util.Arrays.fill(want, (4 << 20) + 2 * CS, (4 << 20) + 3 * CS, (byte) 0);
        assertThat(Files.readAllBytes(out)).isEqualTo(want);
    }

    @Test
    void shouldKeepTheSessionAndTheReaderAliveWhileThePipeStalls() throws Exception {
        // 16 MiB of random data: an archive far larger than the pipe's and the writer's buffers
        Path img = Images.random(work.resolve("s.img"), 16L << 20, 13);
        String snap = ok(envA, "backup", "vm/14", "--source", "file:" + img, "--json").json().get("snapshot").asText();
        byte[] archive = Files.readAllBytes(archive(snap, "s.cfa"));
        // a store whose leases end after 3 s of silence, checked every second
        try (CofferProcess.Server d = CofferProcess.server(work, "--datastore", work.resolve("dsd").toString(), "--chunk-size",
                Integer.toString(CS), "--session-lease", "3")) {
            Map<String, String> envD = d.env(d.start.get("token").asText());
            // import: the writer of the pipe pauses for two leases after the header and a few records
            Process imp = builder(envD, "import", "-").redirectOutput(work.resolve("stall-import.out").toFile())
                    .redirectError(work.resolve("stall-import.err").toFile()).start();
            try (var in = imp.getOutputStream()) {
                in.write(archive, 0, 200_000);
                in.flush();
                Thread.sleep(6_000);
                in.write(archive, 200_000, archive.length - 200_000);
            }
            assertThat(imp.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(imp.exitValue()).as("import: %s", Files.readString(work.resolve("stall-import.err"))).isZero();
            // export: the reader of the pipe pauses for two leases
            Process exp = builder(envD, "export", snap, "-o", "-").redirectError(work.resolve("stall-export.err").toFile()).start();
            byte[] got;
            try (var out = exp.getInputStream()) {
                byte[] head = out.readNBytes(100_000);
                Thread.sleep(6_000);
                byte[] rest = out.readAllBytes();
                got = java.util.Arrays.copyOf(head, head.length + rest.length);
                System.arraycopy(rest, 0, got, head.length, rest.length);
            }
            assertThat(exp.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(exp.exitValue()).as("export: %s", Files.readString(work.resolve("stall-export.err"))).isZero();
            Path again = Files.write(work.resolve("stall.cfa"), got);
            Path out = work.resolve("stall.raw");
            ok(Map.of(), "restore", snap, "--from-archive", again.toString(), "--to", "file:" + out);
            assertThat(Images.sha256(out)).isEqualTo(Images.sha256(img));
        }
    }

    private static Path archive(String snapshot, String name) throws Exception {
        Path file = work.resolve(name);
        ok(envA, "export", snapshot, "-o", file.toString());
        return file;
    }

    /** The offset of frame number {@code n} (0 = the header), walking the frame lengths. */
    private static long nthFrame(byte[] b, int n) {
        long at = 0;
        int chunks = -1;
        while (true) {
            int kind = b[(int) at + 24];
            if (kind == 3 && ++chunks == n - 1) {
                return at;
            }
            int len = java.nio.ByteBuffer.wrap(b, (int) at + 28, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
            at += 32 + len + 4;
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
