package dev.coffer.store.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.chunker.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class DatastoreDbTest {

    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldKeepChunkEntriesAcrossReopen() throws Exception {
        Digest d = ChunkStoreContract.digest(1);
        ChunkMeta m = new ChunkMeta(12345, true, false, false, 3, 4);
        try (DatastoreDb db = DatastoreDb.open(dir, 8 << 20)) {
            assertThat(db.getChunk(d)).isNull();
            db.putChunk(d, m);
            db.syncWal();
        }
        try (DatastoreDb db = DatastoreDb.open(dir, 8 << 20)) {
            assertThat(db.getChunk(d)).isEqualTo(m);
            db.deleteChunk(d);
            assertThat(db.getChunk(d)).isNull();
        }
    }

    @Test
    void shouldPinTheChunkEntryEncoding() {
        ChunkMeta m = new ChunkMeta(0x01020304, true, true, false, 5, 0x0102030405060708L);
        assertThat(HexFormat.of().formatHex(m.encode())).isEqualTo("0103" + "04030201" + "0500000000000000" + "0807060504030201");
        assertThat(ChunkMeta.decode(m.encode())).isEqualTo(m);
        assertThat(m.touched(2)).isSameAs(m);
        assertThat(m.touched(0x0102030405060709L).touchEpoch()).isEqualTo(0x0102030405060709L);
        assertThat(m.withBad(true).bad()).isTrue();
        assertThatThrownBy(() -> ChunkMeta.decode(new byte[3])).isInstanceOf(IllegalStateException.class).hasMessageContaining("damaged");
    }

    @Test
    void shouldSeparateColumnFamiliesAndScanByPrefix() throws Exception {
        try (DatastoreDb db = DatastoreDb.open(dir, 8 << 20)) {
            db.put(DatastoreDb.Cf.SESSIONS, b("s1/a"), b("1"));
            db.put(DatastoreDb.Cf.SESSIONS, b("s1/b"), b("2"));
            db.put(DatastoreDb.Cf.SESSIONS, b("s2/a"), b("3"));
            db.put(DatastoreDb.Cf.CATALOG, b("s1/c"), b("4"));
            List<String> seen = new ArrayList<>();
            db.scan(DatastoreDb.Cf.SESSIONS, b("s1/"), (k, v) -> seen.add(new String(k, StandardCharsets.UTF_8) + "=" + new String(v, StandardCharsets.UTF_8)));
            assertThat(seen).containsExactly("s1/a=1", "s1/b=2");
            db.deleteRange(DatastoreDb.Cf.SESSIONS, b("s1/"), b("s10"));
            seen.clear();
            db.scan(DatastoreDb.Cf.SESSIONS, new byte[0], (k, v) -> seen.add(new String(k, StandardCharsets.UTF_8)));
            assertThat(seen).containsExactly("s2/a");
            assertThat(db.get(DatastoreDb.Cf.CATALOG, b("s1/c"))).isEqualTo(b("4"));
        }
    }

    @Test
    void shouldWriteBatchesAtomically() throws Exception {
        try (DatastoreDb db = DatastoreDb.open(dir, 8 << 20)) {
            assertThatThrownBy(() -> db.write(batch -> {
                batch.put(DatastoreDb.Cf.JOBS, b("x"), b("1"));
                throw new IllegalStateException("filler failed");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(db.get(DatastoreDb.Cf.JOBS, b("x"))).isNull();
            db.write(batch -> {
                batch.put(DatastoreDb.Cf.JOBS, b("x"), b("1"));
                batch.put(DatastoreDb.Cf.META, b("y"), b("2"));
            });
            assertThat(db.get(DatastoreDb.Cf.JOBS, b("x"))).isEqualTo(b("1"));
            assertThat(db.get(DatastoreDb.Cf.META, b("y"))).isEqualTo(b("2"));
        }
    }

    @Test
    void shouldRefuseASecondOpenWithAClearMessage() throws Exception {
        try (DatastoreDb db = DatastoreDb.open(dir, 8 << 20)) {
            assertThatThrownBy(() -> DatastoreDb.open(dir, 8 << 20)).isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot open the datastore index in " + dir)
                    .hasMessageContaining("lock");
        }
    }

    @Test
    void shouldCloseIdempotently() throws Exception {
        DatastoreDb db = DatastoreDb.open(dir, 8 << 20);
        db.close();
        db.close();
        try (DatastoreDb again = DatastoreDb.open(dir, 8 << 20)) {
            assertThat(again.get(DatastoreDb.Cf.META, b("none"))).isNull();
        }
    }

    @Test
    void shouldVisitChunksInDigestOrder() throws Exception {
        try (DatastoreDb db = DatastoreDb.open(dir, 8 << 20)) {
            List<Digest> put = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                Digest d = ChunkStoreContract.digest(i);
                put.add(d);
                db.putChunk(d, new ChunkMeta(i, false, true, false, 0, 0));
            }
            List<Digest> seen = new ArrayList<>();
            db.forEachChunk((d, m) -> seen.add(d));
            assertThat(seen).containsExactlyElementsOf(put.stream().sorted().toList());
        }
    }
}
