package dev.coffer.agent.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.chunker.CryptConfig;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class SourceBenchTest {

    private static final int CS = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void shouldRunTheBackupPipelineOverASparseImageAndKeepNothing() throws Exception {
        // 16 chunks: 0-2 random, 3 a repeat of 0, 4 allocated zeros, 5-15 a hole
        Path img = dir.resolve("disk.img");
        byte[] random = new byte[3 * CS];
        new Random(7).nextBytes(random);
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(16L * CS);
            f.write(random);
            f.write(random, 0, CS);
            f.write(new byte[CS]);
        }
        SourceBench.Result plain;
        try (FileChunkSource src = FileChunkSource.open(img, CS)) {
            plain = SourceBench.run(src, CS, null, 2, dir);
        }
        assertThat(plain.size()).isEqualTo(16L * CS);
        assertThat(plain.readBytes()).as("the five allocated chunks").isEqualTo(5L * CS);
        assertThat(plain.zeroBytes()).as("allocated zeros and the hole").isEqualTo(12L * CS);
        assertThat(plain.encodedChunks()).as("the repeat is encoded once, as in a backup").isEqualTo(3);
        assertThat(plain.encodedBytes()).as("random data does not compress: stored plain")
                .isEqualTo(3L * (CS + 12));
        assertThat(plain.durationS()).isPositive();

        SourceBench.Result encrypted;
        try (FileChunkSource src = FileChunkSource.open(img, CS)) {
            encrypted = SourceBench.run(src, CS, CryptConfig.fromMasterKey(new byte[32]), 2, dir);
        }
        assertThat(encrypted.encodedChunks()).isEqualTo(3);
        assertThat(encrypted.encodedBytes()).as("IV and tag on each blob").isEqualTo(3L * (CS + 12 + 28));
        try (var left = Files.list(dir)) {
            assertThat(left).as("the pass's index is removed").containsExactly(img);
        }
    }
}
