package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class ConfigBlobTest {

    private static final CryptConfig KEY = CryptConfig.fromMasterKey(TestData.katMasterKey());
    private static final CryptConfig OTHER_KEY = CryptConfig.fromMasterKey(new byte[32]);
    private static final byte[] XML = "<domain type='kvm'><name>db-01</name><disk file='/srv/db-01.qcow2'/></domain>\n"
            .getBytes(StandardCharsets.UTF_8);

    @Test
    void shouldMakeTheEncryptedChunkBlobKnownAnswer() {
        // an encrypted config file is an uncompressed encrypted chunk blob: with the KAT key and IV
        // its bytes are exactly ChunkCodecTest's encrypted known answer, computed in Python
        try (ChunkCodec codec = TestData.fixedIvCodec(KEY, true)) {
            byte[] blob = codec.encryptFile(TestData.shaStream(1000));
            assertThat(TestData.sha256Hex(blob)).isEqualTo("6c00adef18f3d11fe78667353f661933854a4fdf5658b5383827f4ed2b164eea");
        }
    }

    @Test
    void shouldStorePlainFilesAsTheyAre() throws Exception {
        ConfigBlob.Sealed s = ConfigBlob.seal("domain.xml", XML, null);
        assertThat(s.stored()).isEqualTo(XML);
        assertThat(s.file()).isEqualTo(new ManifestFile("domain.xml", XML.length, Digest.parse(TestData.sha256Hex(XML))));
        assertThat(ConfigBlob.open(s.file(), s.stored(), manifest(null, s.file()), null, "rp")).isEqualTo(XML);
    }

    @Test
    void shouldStoreEncryptedFilesWithoutTheirPlaintext() throws Exception {
        ConfigBlob.Sealed s = ConfigBlob.seal("domain.xml", XML, KEY);
        assertThat(s.stored()).hasSize(XML.length + FileFormats.BLOB_ENCRYPTED_HEADER_LENGTH);
        assertThat(new String(s.stored(), StandardCharsets.ISO_8859_1)).doesNotContain("db-01");
        assertThat(ChunkCodec.check(s.stored(), "t")).isEqualTo(BlobKind.ENCRYPTED);
        assertThat(s.file().checksum()).isEqualTo(Digest.parse(TestData.sha256Hex(s.stored())));
        assertThat(ConfigBlob.open(s.file(), s.stored(), manifest(KEY, s.file()), KEY, "rp")).isEqualTo(XML);
    }

    @Test
    void shouldSealEmptyAndAllZeroFiles() throws Exception {
        for (byte[] content : new byte[][] {new byte[0], new byte[4096]}) {
            ConfigBlob.Sealed s = ConfigBlob.seal("f", content, KEY);
            assertThat(ConfigBlob.open(s.file(), s.stored(), manifest(KEY, s.file()), KEY, "rp")).isEqualTo(content);
        }
    }

    @Test
    void shouldRefuseAWrongOrMissingKey() {
        ConfigBlob.Sealed s = ConfigBlob.seal("domain.xml", XML, KEY);
        Manifest m = manifest(KEY, s.file());
        assertThatThrownBy(() -> ConfigBlob.open(s.file(), s.stored(), m, OTHER_KEY, "restore point vm/1/x"))
                .isInstanceOf(FormatException.DecryptionFailed.class)
                .hasMessageContaining("config file domain.xml of restore point vm/1/x").hasMessageContaining("wrong key");
        assertThatThrownBy(() -> ConfigBlob.open(s.file(), s.stored(), m, null, "rp"))
                .isInstanceOf(FormatException.DecryptionFailed.class).hasMessageContaining("COFFER_KEYFILE");
    }

    @Test
    void shouldRefuseDamagedStoredBytes() {
        ConfigBlob.Sealed s = ConfigBlob.seal("domain.xml", XML, KEY);
        Manifest m = manifest(KEY, s.file());
        byte[] flipped = s.stored().clone();
        flipped[flipped.length - 1] ^= 1;
        assertThatThrownBy(() -> ConfigBlob.open(s.file(), flipped, m, KEY, "rp"))
                .isInstanceOf(FormatException.DigestMismatch.class).hasMessageContaining("damaged");
        byte[] cut = java.util.Arrays.copyOf(s.stored(), s.stored().length - 1);
        assertThatThrownBy(() -> ConfigBlob.open(s.file(), cut, m, KEY, "rp"))
                .isInstanceOf(FormatException.SizeMismatch.class).hasMessageContaining("the manifest says " + s.stored().length);
    }

    @Test
    void shouldRefuseAChunkBlobInPlaceOfAFile() throws Exception {
        // a compressed chunk of the same key, even with a manifest entry that matches it
        byte[] text = TestData.text(3000, 7);
        byte[] chunk;
        try (ChunkCodec codec = ChunkCodec.create(KEY)) {
            chunk = codec.encode(text, 0, text.length);
        }
        assertThat(ChunkCodec.check(chunk, "t")).isEqualTo(BlobKind.ZSTD_ENCRYPTED);
        ManifestFile f = new ManifestFile("f", chunk.length, Digest.parse(TestData.sha256Hex(chunk)));
        assertThatThrownBy(() -> ConfigBlob.open(f, chunk, manifest(KEY, f), KEY, "rp"))
                .isInstanceOf(FormatException.BadMagic.class).hasMessageContaining("uncompressed encrypted blob");
    }

    @Test
    void shouldRefuseAFileTooLargeForABlob() {
        byte[] big = new byte[FileFormats.BLOB_MAX_LENGTH - FileFormats.BLOB_ENCRYPTED_HEADER_LENGTH + 1];
        assertThatThrownBy(() -> ConfigBlob.seal("big", big, KEY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("larger than");
    }

    private static Manifest manifest(CryptConfig key, ManifestFile file) {
        return Manifest.builder().snapshot(SnapshotId.parsePath("vm/1/2030-01-01T00:00:00Z")).chunkSize(1 << 20)
                .addDisk(new ManifestDisk("vda", 1 << 20, new ManifestDisk.IndexRef("vda.fidx", 4128, Digest.ZERO),
                        ManifestDisk.Mode.FULL, "no-base", null, Map.of()))
                .addFile(file).createdBy("test").sign(key);
    }
}
