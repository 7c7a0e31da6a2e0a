package dev.coffer.chunker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

final class ManifestTest {

    static final CryptConfig KEY = CryptConfig.fromMasterKey(counting(0));
    static final CryptConfig OTHER_KEY = CryptConfig.fromMasterKey(counting(1));

    static byte[] counting(int start) {
        byte[] b = new byte[32];
        for (int i = 0; i < 32; i++) {
            b[i] = (byte) (start + i);
        }
        return b;
    }

    static ManifestBuilder katBuilder() {
        return Manifest.builder()
                .snapshot(SnapshotId.parsePath("vm/101/2026-11-22T10:00:00Z"))
                .parent(SnapshotId.parsePath("vm/101/2026-11-21T10:00:00Z"))
                .chunkSize(4 * 1024 * 1024)
                .addDisk(new ManifestDisk("drive-virtio0", 10L << 30,
                        new ManifestDisk.IndexRef("drive-virtio0.fidx", 4096 + 32 * 2560,
                                Digest.parse("0894fe3b2439217f7d7e5b69a25215eb1fc2cb3a2ac11995de68a908d0765b7b")),
                        ManifestDisk.Mode.INCREMENTAL, null,
                        new ManifestDisk.Checkpoint("coffer-ds-grp-00000002", 2, "libvirt-1-format", 10L << 30, 65536),
                        Map.of("read_bytes", 123L, "uploaded_bytes", 45L)))
                .addFile(new ManifestFile("domain.xml", 1234, Digest.parse(
                        "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")))
                .statistic("duration_s", 12)
                .createdBy("coffer 0.1.0");
    }

    /** Re-signs a hand-edited tree, as a client of a newer version would write it. */
    static byte[] resign(ObjectNode root, CryptConfig key) {
        byte[] canonical = CanonicalJson.canonicalBytes(root.get("protected"));
        if (key == null) {
            root.put("checksum", HexFormat.of().formatHex(ChunkDigester.sha256().digest(canonical)));
        } else {
            root.put("signature", HexFormat.of().formatHex(Manifest.hmac(key, canonical)));
        }
        return CanonicalJson.canonicalBytes(root);
    }

    static byte[] edit(Manifest m, Consumer<ObjectNode> change) {
        ObjectNode root = m.toJson();
        change.accept(root);
        return CanonicalJson.canonicalBytes(root);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static final String KAT_PROTECTED = """
            {"chunk_size":4194304,"created_by":"coffer 0.1.0","crypt":"encrypt","disks":[{"checkpoint":{"granularity":65536,"name":"coffer-ds-grp-00000002","node":"libvirt-1-format","seq":2,"size":10737418240},"index":{"checksum":"0894fe3b2439217f7d7e5b69a25215eb1fc2cb3a2ac11995de68a908d0765b7b","file":"drive-virtio0.fidx","size":86016},"mode":"incremental","name":"drive-virtio0","reason":null,"size":10737418240,"statistics":{"read_bytes":123,"uploaded_bytes":45}}],"files":[{"checksum":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb","name":"domain.xml","size":1234}],"key_fingerprint":"a1:d5:39:32:b9:ee:80:89:80:74:fa:6f:20:67:17:24:f8:cc:f6:50:b3:33:5e:95:ce:de:15:1a:19:cd:93:a9","parent":"vm/101/2026-11-21T10:00:00Z","snapshot":{"id":"101","ns":null,"time":"2026-11-22T10:00:00Z","type":"vm"},"statistics":{"duration_s":12}}""";

    /** Pinned values were computed independently with Python's json, hmac and hashlib (HKDF by hand). */
    @Test
    void shouldMatchKnownAnswer() {
        Manifest m = katBuilder().sign(KEY);
        assertThat(text(m.protectedBytes())).isEqualTo(KAT_PROTECTED);
        assertThat(KEY.fingerprint()).isEqualTo("a1:d5:39:32:b9:ee:80:89:80:74:fa:6f:20:67:17:24:f8:cc:f6:50:b3:33:5e:95:ce:de:15:1a:19:cd:93:a9");
        assertThat(text(m.toBytes())).isEqualTo("{\"format\":\"coffer-manifest-v1\",\"protected\":" + KAT_PROTECTED
                + ",\"signature\":\"59b6ac06c0da461726866ca7b7f75e8710ddec8ba2641b980775203c4326b284\","
                + "\"unprotected\":{\"notes\":\"\",\"protected\":false,\"verify\":{\"state\":\"none\",\"time\":null}}}");
        Manifest plain = katBuilder().sign(null);
        assertThat(plain.toJson().get("checksum").textValue()).isEqualTo("af0b3d631da28dd3b41566f3e339805ff2012e8abdcd92cfcbeff015a7920ef0");
    }

    @Test
    void shouldRoundTripEncrypted() throws FormatException {
        Manifest m = katBuilder().sign(KEY);
        assertThat(m.signatureVerified()).isTrue();
        Manifest back = Manifest.parse(m.toBytes(), "kat", KEY);
        assertThat(back.signatureVerified()).isTrue();
        assertThat(back).isEqualTo(m);
        assertThat(back.toBytes()).isEqualTo(m.toBytes());
        assertThat(back.snapshot()).isEqualTo(SnapshotId.parsePath("vm/101/2026-11-22T10:00:00Z"));
        assertThat(back.parent()).contains(SnapshotId.parsePath("vm/101/2026-11-21T10:00:00Z"));
        assertThat(back.encrypted()).isTrue();
        assertThat(back.keyFingerprint()).contains(KEY.fingerprint());
        assertThat(back.chunkSize()).isEqualTo(4 * 1024 * 1024);
        assertThat(back.disks()).isEqualTo(m.disks()).hasSize(1);
        ManifestDisk d = back.disks().getFirst();
        assertThat(d.mode()).isEqualTo(ManifestDisk.Mode.INCREMENTAL);
        assertThat(d.checkpoint().seq()).isEqualTo(2);
        assertThat(d.statistics()).containsEntry("read_bytes", 123L);
        assertThat(back.files()).singleElement().extracting(ManifestFile::name).isEqualTo("domain.xml");
        assertThat(back.statistics()).isEqualTo(Map.of("duration_s", 12L));
        assertThat(back.createdBy()).isEqualTo("coffer 0.1.0");
        assertThat(back.unprotected()).isEqualTo(Manifest.Unprotected.INITIAL);
    }

    @Test
    void aCheckpointMayRecordHowTheViewWasFrozenWithoutChangingManifestsThatDoNot() throws FormatException {
        ManifestDisk.Checkpoint cp = new ManifestDisk.Checkpoint("coffer-x-y-00000001", 1, "disk0", 1 << 20, 65536, "filter");
        Manifest m = Manifest.builder().snapshot(SnapshotId.parsePath("vm/1/2030-01-01T00:00:00Z")).chunkSize(1 << 20)
                .addDisk(new ManifestDisk("vda", 1 << 20, new ManifestDisk.IndexRef("vda.fidx", 4128, Digest.ZERO),
                        ManifestDisk.Mode.FULL, "no-base", cp, Map.of()))
                .createdBy("test").sign(null);
        assertThat(new String(m.toBytes(), java.nio.charset.StandardCharsets.UTF_8)).contains("\"freeze\":\"filter\"");
        assertThat(Manifest.parse(m.toBytes(), "t", null).disks().getFirst().checkpoint()).isEqualTo(cp);

        ManifestDisk.Checkpoint old = new ManifestDisk.Checkpoint("coffer-x-y-00000001", 1, "disk0", 1 << 20, 65536);
        Manifest o = Manifest.builder().snapshot(SnapshotId.parsePath("vm/1/2030-01-01T00:00:00Z")).chunkSize(1 << 20)
                .addDisk(new ManifestDisk("vda", 1 << 20, new ManifestDisk.IndexRef("vda.fidx", 4128, Digest.ZERO),
                        ManifestDisk.Mode.FULL, "no-base", old, Map.of()))
                .createdBy("test").sign(null);
        assertThat(new String(o.toBytes(), java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("freeze");
        assertThat(Manifest.parse(o.toBytes(), "t", null).disks().getFirst().checkpoint().freeze()).isNull();
    }

    @Test
    void shouldRoundTripUnencryptedWithNamespaceAndNoParent() throws FormatException {
        Manifest m = Manifest.builder()
                .snapshot(SnapshotId.parsePath("ns/site-a/ns/rack_2/host/db-01/2030-01-01T00:00:00Z"))
                .chunkSize(FileFormats.MIN_CHUNK_SIZE)
                .addDisk(new ManifestDisk("sda", 0, new ManifestDisk.IndexRef("sda.fidx", 4096, Digest.ZERO),
                        ManifestDisk.Mode.FULL, "no-base", null, Map.of()))
                .createdBy("test")
                .sign(null);
        Manifest back = Manifest.parse(m.toBytes(), "plain", null);
        assertThat(back.signatureVerified()).isFalse();
        assertThat(back.encrypted()).isFalse();
        assertThat(back.parent()).isEmpty();
        assertThat(back.snapshot().ns()).isEqualTo("site-a/rack_2");
        assertThat(back.disks().getFirst().reason()).isEqualTo("no-base");
        assertThat(back.disks().getFirst().checkpoint()).isNull();
        assertThat(back.toBytes()).isEqualTo(m.toBytes());
        // a key does not make an unencrypted manifest verified: callers that need it check encrypted()
        assertThat(Manifest.parse(m.toBytes(), "plain", KEY).signatureVerified()).isFalse();
    }

    @Test
    void shouldParseEncryptedManifestWithoutKeyButNotVerifyIt() throws FormatException {
        Manifest m = katBuilder().sign(KEY);
        Manifest server = Manifest.parse(m.toBytes(), "server", null);
        assertThat(server.signatureVerified()).isFalse();
        assertThat(server.encrypted()).isTrue();
        assertThat(server.disks()).isEqualTo(m.disks());
        // without a key a forged protected part cannot be detected; with the key it is
        byte[] forged = edit(m, r -> ((ObjectNode) r.get("protected")).put("created_by", "forged"));
        assertThat(Manifest.parse(forged, "server", null).createdBy()).isEqualTo("forged");
        assertThatThrownBy(() -> Manifest.parse(forged, "client", KEY)).isInstanceOf(FormatException.ManifestTampered.class);
    }

    @Test
    void shouldRejectTamperedProtectedField() {
        Manifest m = katBuilder().sign(KEY);
        byte[] tampered = edit(m, r -> ((ObjectNode) r.get("protected").get("disks").get(0)).put("size", 1L << 30));
        assertThatThrownBy(() -> Manifest.parse(tampered, "vm/101/t/manifest.json", KEY))
                .isInstanceOf(FormatException.ManifestTampered.class)
                .hasMessageContaining("vm/101/t/manifest.json at signature");
        Manifest plain = katBuilder().sign(null);
        byte[] tamperedPlain = edit(plain, r -> ((ObjectNode) r.get("protected")).put("parent", (String) null));
        assertThatThrownBy(() -> Manifest.parse(tamperedPlain, "p", null))
                .isInstanceOf(FormatException.ManifestTampered.class).hasMessageContaining("p at checksum");
    }

    @Test
    void shouldRejectTamperedSignature() {
        Manifest m = katBuilder().sign(KEY);
        byte[] tampered = edit(m, r -> r.put("signature", "00".repeat(32)));
        assertThatThrownBy(() -> Manifest.parse(tampered, "m", KEY)).isInstanceOf(FormatException.ManifestTampered.class);
    }

    @Test
    void shouldRejectWrongKey() {
        Manifest m = katBuilder().sign(KEY);
        assertThatThrownBy(() -> Manifest.parse(m.toBytes(), "m", OTHER_KEY))
                .isInstanceOf(FormatException.ManifestTampered.class)
                .hasMessageContaining("m at protected.key_fingerprint").hasMessageContaining(KEY.fingerprint());
        // a forger who also swaps the fingerprint still fails on the signature
        byte[] swapped = edit(m, r -> ((ObjectNode) r.get("protected")).put("key_fingerprint", OTHER_KEY.fingerprint()));
        assertThatThrownBy(() -> Manifest.parse(swapped, "m", OTHER_KEY))
                .isInstanceOf(FormatException.ManifestTampered.class).hasMessageContaining("m at signature");
    }

    @Test
    void shouldRejectMalformedJson() {
        for (String bad : new String[] {"", "{", "[]", "null", "{\"format\":1}", "{} {}", "{\"a\":1,\"a\":2}"}) {
            assertThatThrownBy(() -> Manifest.parse(bad.getBytes(StandardCharsets.UTF_8), "bad", null))
                    .as(bad).isInstanceOf(FormatException.Malformed.class).hasMessageStartingWith("bad");
        }
        assertThatThrownBy(() -> Manifest.parse(new byte[] {'"', (byte) 0xc3, '"'}, "utf8", null))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("UTF-8");
    }

    @Test
    void shouldRejectTrailingData() {
        byte[] valid = katBuilder().sign(KEY).toBytes();
        byte[] trailing = (text(valid) + "x").getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Manifest.parse(trailing, "t", KEY)).isInstanceOf(FormatException.Malformed.class);
    }

    @Test
    void shouldRejectUnknownFormat() {
        byte[] bytes = edit(katBuilder().sign(KEY), r -> r.put("format", "coffer-manifest-v2"));
        assertThatThrownBy(() -> Manifest.parse(bytes, "m", KEY)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("m at format").hasMessageContaining("coffer-manifest-v2");
    }

    @Test
    void shouldNameTheMissingField() {
        Manifest m = katBuilder().sign(null);
        ObjectNode root = m.toJson();
        ((ObjectNode) root.get("protected").get("disks").get(0).get("index")).remove("checksum");
        byte[] bytes = resign(root, null);
        assertThatThrownBy(() -> Manifest.parse(bytes, "m", null)).isInstanceOf(FormatException.Malformed.class)
                .hasMessage("m at protected.disks[0].index.checksum: required field is missing");
    }

    @Test
    void shouldNameTheFieldOfWrongType() {
        ObjectNode root = katBuilder().sign(KEY).toJson();
        ((ObjectNode) root.get("protected").get("disks").get(0).get("checkpoint")).put("seq", "two");
        byte[] bytes = resign(root, KEY);
        assertThatThrownBy(() -> Manifest.parse(bytes, "m", KEY)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("m at protected.disks[0].checkpoint.seq").hasMessageContaining("a string");
        ObjectNode root2 = katBuilder().sign(KEY).toJson();
        ((ObjectNode) root2.get("unprotected")).put("protected", "yes");
        assertThatThrownBy(() -> Manifest.parse(CanonicalJson.canonicalBytes(root2), "m", KEY))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("m at unprotected.protected");
    }

    @Test
    void shouldRejectFractionInProtectedPart() {
        byte[] bytes = text(katBuilder().sign(null).toBytes()).replace("\"duration_s\":12", "\"duration_s\":12.5")
                .getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Manifest.parse(bytes, "m", null)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("m at protected.statistics.duration_s").hasMessageContaining("fraction");
    }

    @Test
    void shouldRejectOutOfRangeValues() {
        ObjectNode root = katBuilder().sign(null).toJson();
        ((ObjectNode) root.get("protected")).put("chunk_size", 3 * 65536);
        assertThatThrownBy(() -> Manifest.parse(resign(root, null), "m", null))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("m at protected.chunk_size");
        ObjectNode root2 = katBuilder().sign(null).toJson();
        ((ObjectNode) root2.get("protected").get("disks").get(0)).put("name", "../etc");
        assertThatThrownBy(() -> Manifest.parse(resign(root2, null), "m", null))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("m at protected.disks[0]");
        ObjectNode root3 = katBuilder().sign(null).toJson();
        ((ObjectNode) root3.get("protected").get("disks").get(0)).put("mode", "sideways");
        assertThatThrownBy(() -> Manifest.parse(resign(root3, null), "m", null))
                .isInstanceOf(FormatException.Malformed.class).hasMessageContaining("sideways");
    }

    @Test
    void shouldRejectIndexThatDoesNotFitItsDisk() {
        ManifestBuilder b = katBuilder().addDisk(new ManifestDisk("sdb", 1, new ManifestDisk.IndexRef("sdb.fidx", 4096, Digest.ZERO),
                ManifestDisk.Mode.FULL, null, null, Map.of()));
        assertThatThrownBy(() -> b.sign(null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4128");
    }

    @Test
    void shouldRejectRepeatedNames() {
        ManifestBuilder b = katBuilder().addFile(new ManifestFile("drive-virtio0.fidx", 1, Digest.ZERO));
        assertThatThrownBy(() -> b.sign(KEY)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("used twice");
        assertThatThrownBy(() -> new ManifestFile("manifest.json", 1, Digest.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldKeepUnknownFieldsEverywhere() throws FormatException {
        ObjectNode root = katBuilder().sign(KEY).toJson();
        root.put("future_top", "t");
        ((ObjectNode) root.get("protected")).putObject("freeze").put("method", "copy-before-write");
        ((ObjectNode) root.get("protected").get("disks").get(0)).putArray("extents").add(1).add(2);
        ((ObjectNode) root.get("protected").get("disks").get(0).get("index")).put("format", "fidx1");
        ((ObjectNode) root.get("unprotected")).put("owner", "ops");
        ((ObjectNode) root.get("unprotected").get("verify")).put("ratio", new BigDecimal("0.50"));
        byte[] bytes = resign(root, KEY);

        Manifest m = Manifest.parse(bytes, "newer", KEY);
        assertThat(m.signatureVerified()).isTrue();
        assertThat(m.toBytes()).isEqualTo(bytes);
        assertThat(text(bytes)).contains("\"ratio\":0.50", "\"extents\":[1,2]", "\"freeze\":{\"method\":\"copy-before-write\"}");

        Instant when = Instant.parse("2026-11-23T01:02:03Z");
        Manifest changed = m.withUnprotected(new Manifest.Unprotected(Manifest.VerifyState.OK, when, "checked", true));
        Manifest reread = Manifest.parse(changed.toBytes(), "changed", KEY);
        assertThat(reread.signatureVerified()).isTrue();
        assertThat(reread.unprotected()).isEqualTo(new Manifest.Unprotected(Manifest.VerifyState.OK, when, "checked", true));
        assertThat(reread.protectedBytes()).isEqualTo(m.protectedBytes());
        assertThat(reread.toJson().get("unprotected").get("owner").textValue()).isEqualTo("ops");
        assertThat(reread.toJson().get("unprotected").get("verify").get("ratio").decimalValue()).isEqualByComparingTo("0.50");
        assertThat(reread.toJson().get("future_top").textValue()).isEqualTo("t");
    }

    @Test
    void shouldLetServerChangeOnlyTheUnprotectedPart() throws FormatException {
        Manifest m = Manifest.parse(katBuilder().sign(KEY).toBytes(), "server", null);
        Manifest failed = m.withUnprotected(new Manifest.Unprotected(Manifest.VerifyState.FAILED,
                Instant.parse("2026-11-24T00:00:00Z"), "2 bad chunks", false));
        assertThat(failed.signatureVerified()).isFalse();
        assertThat(text(failed.toBytes())).contains("\"signature\":\"59b6ac06c0da461726866ca7b7f75e8710ddec8ba2641b980775203c4326b284\"");
        assertThat(Manifest.parse(failed.toBytes(), "client", KEY).unprotected().notes()).isEqualTo("2 bad chunks");
        assertThatThrownBy(() -> new Manifest.Unprotected(Manifest.VerifyState.OK, null, "", false))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldKeepNonAsciiTextAsUtf8() throws FormatException {
        ObjectNode root = katBuilder().sign(KEY).toJson();
        ((ObjectNode) root.get("protected")).put("created_by", "coffer \u00e9\ud83d\ude00 \"q\" \n\u0001");
        byte[] bytes = resign(root, KEY);
        assertThat(text(bytes)).contains("\"created_by\":\"coffer \u00e9\ud83d\ude00 \\\"q\\\" \\n\\u0001\"");
        assertThat(Manifest.parse(bytes, "m", KEY).createdBy()).isEqualTo("coffer \u00e9\ud83d\ude00 \"q\" \n\u0001");
        byte[] lone = text(bytes).replace("\\u0001", "\\ud800").getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Manifest.parse(lone, "m", KEY)).isInstanceOf(FormatException.Malformed.class)
                .hasMessageContaining("surrogate");
    }
}
