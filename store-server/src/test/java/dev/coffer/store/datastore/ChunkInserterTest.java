package dev.coffer.store.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.chunker.ChunkCodec;
import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.Digest;
import dev.coffer.chunker.FormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rules 5 and 6 on a real datastore: every upload checked, no poisoning, bad chunks heal. */
final class ChunkInserterTest {

    private static final CryptConfig KEY = CryptConfig.fromMasterKey(new byte[32]);

    @TempDir
    Path dir;
    private Datastore ds;
    private ChunkInserter ins;
    private final ChunkCodec plain = ChunkCodec.create(null);
    private final ChunkCodec enc = ChunkCodec.create(KEY);

    @BeforeEach
    void open() throws Exception {
        ds = Datastore.open("default", dir.resolve("ds"), DatastoreOptions.DEFAULT.withSyncLevel(SyncLevel.NONE));
        ins = ds.inserter();
    }

    @AfterEach
    void close() {
        ds.close();
        plain.close();
        enc.close();
    }

    private static byte[] data(long seed) {
        byte[] b = new byte[10000];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void shouldStoreACheckedPlainChunkOnce() throws Exception {
        byte[] d = data(1);
        Digest digest = plain.digest(d, 0, d.length);
        byte[] blob = plain.encode(d, 0, d.length);
        assertThat(ins.insert(digest, blob, d.length, false, 7)).isEqualTo(ChunkInserter.Outcome.STORED);
        assertThat(ins.insert(digest, blob, d.length, false, 9)).isEqualTo(ChunkInserter.Outcome.KEPT);
        ChunkMeta m = ds.db().getChunk(digest);
        assertThat(m).isEqualTo(new ChunkMeta(blob.length, false, true, false, 7, 9));
        assertThat(ds.chunks().get(digest)).isEqualTo(blob);
    }

    @Test
    void shouldRejectAPlainChunkUnderTheWrongDigestAndStoreNothing() throws Exception {
        byte[] d = data(2);
        Digest wrong = plain.digest(data(3), 0, 10000);
        assertThatThrownBy(() -> ins.insert(wrong, plain.encode(d, 0, d.length), d.length, false, 0))
                .isInstanceOf(FormatException.DigestMismatch.class);
        assertThat(ds.db().getChunk(wrong)).isNull();
        assertThat(ds.chunks().get(wrong)).isNull();
    }

    @Test
    void shouldRejectTruncatedAndWrongModeUploads() throws Exception {
        byte[] d = data(4);
        Digest digest = plain.digest(d, 0, d.length);
        byte[] blob = plain.encode(d, 0, d.length);
        assertThatThrownBy(() -> ins.insert(digest, java.util.Arrays.copyOf(blob, 100), d.length, false, 0))
                .isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> ins.insert(digest, blob, d.length, true, 0))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("encrypted session uploaded an unencrypted blob");
        assertThatThrownBy(() -> ins.insert(digest, enc.encode(d, 0, d.length), d.length, false, 0))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("unencrypted session uploaded an encrypted blob");
        assertThatThrownBy(() -> ins.insert(Digest.ZERO, blob, d.length, false, 0))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("zero digest");
        assertThat(ds.db().getChunk(digest)).isNull();
    }

    @Test
    void shouldNeverLetAnEncryptedUploadShadowAVerifiedPlainChunk() throws Exception {
        byte[] d = data(5);
        Digest digest = plain.digest(d, 0, d.length);
        byte[] good = plain.encode(d, 0, d.length);
        ins.insert(digest, good, d.length, false, 1);
        // an attacker who knows the plain SHA-256 uploads garbage ciphertext under it
        byte[] garbage = enc.encode(data(6), 0, 10000);
        assertThat(ins.insert(digest, garbage, d.length, true, 2)).isEqualTo(ChunkInserter.Outcome.KEPT);
        assertThat(ds.chunks().get(digest)).isEqualTo(good);
        assertThat(ds.db().getChunk(digest).verified()).isTrue();
    }

    @Test
    void shouldLetAVerifiedUploadReplaceAnUnverifiedOne() throws Exception {
        byte[] d = data(7);
        Digest digest = plain.digest(d, 0, d.length);
        byte[] garbage = enc.encode(data(8), 0, 10000);
        assertThat(ins.insert(digest, garbage, d.length, true, 1)).isEqualTo(ChunkInserter.Outcome.STORED);
        byte[] good = plain.encode(d, 0, d.length);
        assertThat(ins.insert(digest, good, d.length, false, 2)).isEqualTo(ChunkInserter.Outcome.REPLACED);
        assertThat(ds.chunks().get(digest)).isEqualTo(good);
        assertThat(ds.db().getChunk(digest)).isEqualTo(new ChunkMeta(good.length, false, true, false, 1, 2));
    }

    @Test
    void shouldHealBadAndMissingChunks() throws Exception {
        byte[] d = data(9);
        Digest digest = enc.digest(d, 0, d.length);
        byte[] blob = enc.encode(d, 0, d.length);
        ins.insert(digest, blob, d.length, true, 1);
        ds.chunks().quarantine(digest);
        ds.db().putChunk(digest, ds.db().getChunk(digest).withBad(true));
        assertThat(ins.touch(digest, 3)).as("a bad chunk is not known: the session must upload it").isNull();
        assertThat(ins.insert(digest, blob, d.length, true, 3)).isEqualTo(ChunkInserter.Outcome.REPLACED);
        assertThat(ds.db().getChunk(digest).bad()).isFalse();
        assertThat(ds.chunks().get(digest)).isEqualTo(blob);
        // an entry whose file vanished (a crash, a careless admin) is healed the same way
        Files.delete(((FileChunkStore) ds.chunks()).path(digest));
        assertThat(ins.insert(digest, blob, d.length, true, 4)).isEqualTo(ChunkInserter.Outcome.REPLACED);
        assertThat(ds.chunks().get(digest)).isEqualTo(blob);
    }

    @Test
    void shouldTouchOnlyPresentChunksAndNeverLowerTheEpoch() throws Exception {
        byte[] d = data(10);
        Digest digest = plain.digest(d, 0, d.length);
        assertThat(ins.touch(digest, 5)).isNull();
        ins.insert(digest, plain.encode(d, 0, d.length), d.length, false, 5);
        assertThat(ins.touch(digest, 8).touchEpoch()).isEqualTo(8);
        assertThat(ins.touch(digest, 6).touchEpoch()).isEqualTo(8);
        assertThat(ds.db().getChunk(digest).touchEpoch()).isEqualTo(8);
    }
}
