package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The magics are what their labels say, so anyone can re-derive them; the sizes add up. */
final class FileFormatsTest {

    private static byte[] labelMagic(String label) {
        return Arrays.copyOf(ChunkDigester.sha256().digest(label.getBytes(StandardCharsets.US_ASCII)), 8);
    }

    @Test
    void shouldDeriveEveryMagicFromItsLabel() {
        assertThat(FileFormats.BLOB_PLAIN_MAGIC).isEqualTo(labelMagic("coffer chunk blob v1: plain"));
        assertThat(FileFormats.BLOB_ZSTD_MAGIC).isEqualTo(labelMagic("coffer chunk blob v1: zstd"));
        assertThat(FileFormats.BLOB_ENCRYPTED_MAGIC).isEqualTo(labelMagic("coffer chunk blob v1: encrypted"));
        assertThat(FileFormats.BLOB_ZSTD_ENCRYPTED_MAGIC).isEqualTo(labelMagic("coffer chunk blob v1: zstd+encrypted"));
        assertThat(FileFormats.INDEX_MAGIC).isEqualTo(labelMagic("coffer fixed index v1"));
        assertThat(FileFormats.ARCHIVE_SYNC_MAGIC).isEqualTo(labelMagic("coffer archive v1: sync"));
    }

    @Test
    void shouldKeepHeaderSizesFrozen() {
        assertThat(FileFormats.BLOB_PLAIN_HEADER_LENGTH).isEqualTo(12);
        assertThat(FileFormats.BLOB_ENCRYPTED_HEADER_LENGTH).isEqualTo(40);
        assertThat(FileFormats.INDEX_HEADER_LENGTH).isEqualTo(4096);
        assertThat(FileFormats.CIPHER_STEP).isEqualTo(65536);
        assertThat(FileFormats.DEFAULT_CHUNK_SIZE).isEqualTo(1 << 20);
        assertThat(FileFormats.MAX_CHUNK_SIZE).isEqualTo(4 << 20);
        assertThat(FileFormats.ARCHIVE_FRAME_HEADER_LENGTH).isEqualTo(32);
        assertThat(FileFormats.ARCHIVE_END_FRAME_LENGTH).isEqualTo(60);
    }
}
