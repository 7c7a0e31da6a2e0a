package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class KeyFileTest {

    /** Cheap scrypt for tests; the default costs 64 MiB and a fraction of a second. */
    private static final KeyFile.ScryptParams CHEAP = new KeyFile.ScryptParams(1024, 8, 1);
    private static final Instant T = Instant.parse("2026-11-23T10:00:00Z");

    @TempDir
    Path dir;

    @Test
    void shouldUnlockWithTheRightPassphrase() throws Exception {
        byte[] master = KeyFile.newMasterKey();
        Path p = dir.resolve("key.json");
        KeyFile.create(master, "correct horse".toCharArray(), CHEAP, T).write(p);
        KeyFile kf = KeyFile.read(p);
        assertThat(kf.needsPassphrase()).isTrue();
        assertThat(kf.created()).isEqualTo(T);
        CryptConfig c = kf.unlock("correct horse".toCharArray(), "key file " + p);
        assertThat(c).isEqualTo(CryptConfig.fromMasterKey(master));
        assertThat(kf.fingerprint()).isEqualTo(c.fingerprint());
        assertThat(new String(Files.readAllBytes(p), StandardCharsets.UTF_8)).doesNotContain(
                java.util.Base64.getEncoder().encodeToString(master));
    }

    @Test
    void shouldSayWrongPassphraseClearly() throws Exception {
        Path p = dir.resolve("key.json");
        KeyFile.create(KeyFile.newMasterKey(), "right".toCharArray(), CHEAP, T).write(p);
        KeyFile kf = KeyFile.read(p);
        assertThatThrownBy(() -> kf.unlock("wrong".toCharArray(), "key file " + p))
                .isInstanceOf(FormatException.WrongPassphrase.class)
                .hasMessage("key file " + p + ": wrong passphrase (or the key file was changed)");
        assertThatThrownBy(() -> kf.unlock(null, "key file " + p))
                .isInstanceOf(FormatException.WrongPassphrase.class).hasMessageContaining("COFFER_PASSPHRASE");
    }

    @Test
    void shouldStoreUnprotectedKeysOnlyWhenAsked() throws Exception {
        byte[] master = TestData.katMasterKey();
        KeyFile kf = KeyFile.parse(KeyFile.create(master, null, CHEAP, T).toBytes(), "k");
        assertThat(kf.needsPassphrase()).isFalse();
        assertThat(kf.unlock(null, "k").fingerprint()).startsWith("a1:d5:39:32");
    }

    @Test
    void shouldDetectAnEditedFingerprint() throws Exception {
        String json = new String(KeyFile.create(TestData.katMasterKey(), null, CHEAP, T).toBytes(), StandardCharsets.UTF_8);
        KeyFile kf = KeyFile.parse(json.replace("a1:d5", "a1:d6").getBytes(StandardCharsets.UTF_8), "k");
        assertThatThrownBy(() -> kf.unlock(null, "k")).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("edited");
    }

    @Test
    void shouldRejectWhatIsNotAKeyFile() {
        assertThatThrownBy(() -> KeyFile.parse("{not json".getBytes(StandardCharsets.UTF_8), "key file x"))
                .isInstanceOf(FormatException.Malformed.class).hasMessageStartingWith("key file x: key file is not valid JSON");
        assertThatThrownBy(() -> KeyFile.parse("{\"format\":\"other\"}".getBytes(StandardCharsets.UTF_8), "key file x"))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("not a Coffer key file");
        assertThatThrownBy(() -> KeyFile.parse("[]".getBytes(StandardCharsets.UTF_8), "key file x"))
                .isInstanceOf(FormatException.Malformed.class);
        assertThatThrownBy(() -> KeyFile.parse("{\"format\":\"coffer-key-v1\",\"fingerprint\":\"x\",\"kdf\":{\"name\":\"rot13\"}}"
                .getBytes(StandardCharsets.UTF_8), "key file x"))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("kdf.name");
    }

    @Test
    void shouldRejectDamagedWrappedKeyFields() throws Exception {
        String json = new String(KeyFile.create(KeyFile.newMasterKey(), "p".toCharArray(), CHEAP, T).toBytes(), StandardCharsets.UTF_8);
        KeyFile kf = KeyFile.parse(json.replaceAll("\"iv\" : \"[^\"]*\"", "\"iv\" : \"!!\"").getBytes(StandardCharsets.UTF_8), "k");
        assertThatThrownBy(() -> kf.unlock("p".toCharArray(), "k")).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("\"iv\" is not base64");
    }

    @Test
    void shouldWriteOwnerOnlyAndNeverOverwrite() throws Exception {
        Path p = dir.resolve("key.json");
        KeyFile.create(KeyFile.newMasterKey(), null, CHEAP, T).write(p);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).isEqualTo("rw-------");
        byte[] before = Files.readAllBytes(p);
        assertThatThrownBy(() -> KeyFile.create(KeyFile.newMasterKey(), null, CHEAP, T).write(p))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readAllBytes(p)).isEqualTo(before);
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(p); // no temp file left behind
        }
    }
}
