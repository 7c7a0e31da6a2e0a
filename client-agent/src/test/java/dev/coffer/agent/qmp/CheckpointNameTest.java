package dev.coffer.agent.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

final class CheckpointNameTest {

    private static final UUID DS = UUID.fromString("3f2b8c1e-0d4a-4b6f-9e21-5a7c9d0b1e22");
    private static final UUID OTHER_DS = UUID.fromString("00000000-0000-4000-8000-000000000001");

    @Test
    void groupKeyIsTheFirst12HexOfSha256OfNsTypeId() throws Exception {
        byte[] d = MessageDigest.getInstance("SHA-256").digest("tenant-a/vm/101".getBytes(StandardCharsets.UTF_8));
        assertThat(CheckpointName.groupKey("tenant-a", "vm", "101")).isEqualTo(HexFormat.of().formatHex(d).substring(0, 12));
        assertThat(CheckpointName.groupKey("", "vm", "101")).hasSize(12)
                .isNotEqualTo(CheckpointName.groupKey("tenant-a", "vm", "101"))
                .isNotEqualTo(CheckpointName.groupKey("", "vm", "102"));
    }

    @Test
    void buildsTheDesignedName() {
        String key = CheckpointName.groupKey("", "vm", "101");
        CheckpointName c = new CheckpointName(DS, key, 7);
        assertThat(c.name()).isEqualTo("coffer-3f2b8c1e-0d4a-4b6f-9e21-5a7c9d0b1e22-" + key + "-00000007");
        assertThat(c.prefix()).isEqualTo("coffer-3f2b8c1e-0d4a-4b6f-9e21-5a7c9d0b1e22-" + key + "-");
        assertThat(CheckpointName.parse(c.name())).contains(c);
    }

    @Test
    void parseRejectsEverythingElse() {
        String key = "a1b2c3d4e5f6";
        String good = "coffer-" + DS + "-" + key + "-00000001";
        assertThat(CheckpointName.parse(good)).isPresent();
        assertThat(CheckpointName.parse(null)).isEmpty();
        assertThat(CheckpointName.parse("c1")).isEmpty();
        assertThat(CheckpointName.parse("backup-vda")).isEmpty();
        assertThat(CheckpointName.parse("libvirt-" + DS)).isEmpty();
        assertThat(CheckpointName.parse(good + "0")).isEmpty();                       // 9 digits
        assertThat(CheckpointName.parse("coffer-" + DS + "-" + key + "-0000001")).isEmpty(); // 7 digits
        assertThat(CheckpointName.parse("coffer-" + DS + "-" + key + "-00000000")).isEmpty(); // seq 0
        assertThat(CheckpointName.parse("coffer-" + DS.toString().toUpperCase() + "-" + key + "-00000001")).isEmpty();
        assertThat(CheckpointName.parse("coffer-" + DS + "-A1B2C3D4E5F6-00000001")).isEmpty();
        assertThat(CheckpointName.parse("coffer-" + DS + "-" + key + "-00000001-tmp")).isEmpty();
    }

    @Test
    void nextIsHighestSeqOfThePrefixPlusOneAndOrderIsBySeq() {
        String key = CheckpointName.groupKey("", "vm", "101");
        String otherKey = CheckpointName.groupKey("", "vm", "102");
        // QEMU's order: none in particular
        List<String> onNode = List.of(
                new CheckpointName(DS, key, 10).name(),
                "backup-vda",
                new CheckpointName(DS, key, 9).name(),
                new CheckpointName(DS, otherKey, 50).name(),
                new CheckpointName(OTHER_DS, key, 70).name(),
                new CheckpointName(DS, key, 2).name());
        assertThat(CheckpointName.chain(onNode, DS, key)).extracting(CheckpointName::seq).containsExactly(2L, 9L, 10L);
        assertThat(CheckpointName.newest(onNode, DS, key)).map(CheckpointName::seq).contains(10L);
        assertThat(CheckpointName.next(onNode, DS, key).name()).isEqualTo(CheckpointName.prefix(DS, key) + "00000011");
        assertThat(CheckpointName.next(onNode, DS, otherKey).seq()).isEqualTo(51);
        assertThat(CheckpointName.next(List.of("backup-vda"), DS, key).seq()).isEqualTo(1);
        assertThat(CheckpointName.newest(List.of(), DS, key)).isEmpty();
    }

    @Test
    void seqLimits() {
        String key = "a1b2c3d4e5f6";
        assertThatThrownBy(() -> new CheckpointName(DS, key, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CheckpointName(DS, key, 100_000_000L)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CheckpointName(DS, "xyz", 1)).isInstanceOf(IllegalArgumentException.class);
        List<String> full = List.of(new CheckpointName(DS, key, CheckpointName.MAX_SEQ).name());
        assertThatThrownBy(() -> CheckpointName.next(full, DS, key)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exhausted");
    }
}
