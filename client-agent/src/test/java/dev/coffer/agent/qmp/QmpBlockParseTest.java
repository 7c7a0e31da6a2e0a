package dev.coffer.agent.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Drive resolution on QEMU's answers for a VM (qemu-storage-daemon has no devices, so no live test). */
final class QmpBlockParseTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    // shaped like QEMU 7.2's query-block for -blockdev + virtio-blk-pci id=vda, and a legacy -drive
    private static final String QUERY_BLOCK = """
            [{"device":"","qdev":"/machine/peripheral/vda/virtio-backend","locked":false,"removable":false,
              "inserted":{"node-name":"disk0","drv":"qcow2","ro":false,"image":{"virtual-size":1073741824}}},
             {"device":"drive1","qdev":"/machine/peripheral-anon/device[1]/virtio-backend","locked":false,
              "inserted":{"node-name":"#block312","drv":"raw","image":{"virtual-size":2097152}}},
             {"device":"cd0","qdev":"/machine/peripheral/cd0","locked":false,"removable":true}]
            """;
    private static final String NODES = """
            [{"node-name":"disk0","drv":"qcow2","ro":false,"file":"/vm/disk.qcow2","image":{"virtual-size":1073741824},
              "dirty-bitmaps":[{"name":"c1","recording":false,"persistent":true,"busy":false,"granularity":65536,"count":131072},
                               {"name":"c2","recording":false,"persistent":true,"busy":false,"granularity":65536,"count":0,"inconsistent":true},
                               {"recording":true,"persistent":false,"busy":true,"granularity":65536,"count":0}]},
             {"node-name":"disk0-file","drv":"file","ro":false,"file":"/vm/disk.qcow2","image":{"virtual-size":1074003968}},
             {"node-name":"#block312","drv":"raw","ro":false,"file":"/vm/b.raw","image":{"virtual-size":2097152}}]
            """;

    private static List<BlockDevice> devices() throws Exception {
        List<BlockDevice> out = new ArrayList<>();
        for (JsonNode d : JSON.readTree(QUERY_BLOCK)) {
            out.add(BlockDevice.of(d));
        }
        return out;
    }

    private static List<BlockNode> nodes() throws Exception {
        List<BlockNode> out = new ArrayList<>();
        for (JsonNode n : JSON.readTree(NODES)) {
            out.add(BlockNode.of(n));
        }
        return out;
    }

    @Test
    void aDeviceIdResolvesToItsRootNode() throws Exception {
        assertThat(QmpBlock.resolve("vda", devices(), nodes()))
                .isEqualTo(new ResolvedDrive("vda", "disk0", ResolvedDrive.Via.DEVICE, "qcow2", 1L << 30, "/machine/peripheral/vda"));
        assertThat(QmpBlock.resolve("drive1", devices(), nodes()).nodeName()).isEqualTo("#block312");
        assertThat(QmpBlock.resolve("/machine/peripheral/vda/virtio-backend", devices(), nodes()).nodeName())
                .isEqualTo("disk0");
    }

    @Test
    void aNodeNameResolvesThroughNamedBlockNodes() throws Exception {
        assertThat(QmpBlock.resolve("disk0", devices(), nodes()))
                .isEqualTo(new ResolvedDrive("disk0", "disk0", ResolvedDrive.Via.NODE, "qcow2", 1L << 30));
        assertThat(QmpBlock.resolve("disk0", List.of(), nodes()).via()).isEqualTo(ResolvedDrive.Via.NODE);
    }

    @Test
    void unknownOrEmptyDrivesFailNamingWhatExists() throws Exception {
        assertThatThrownBy(() -> QmpBlock.resolve("vdb", devices(), nodes())).isInstanceOf(QmpException.class)
                .hasMessageContaining("'vdb'").hasMessageContaining("drive1").hasMessageContaining("disk0-file")
                .hasMessageNotContaining("#block312");
        assertThatThrownBy(() -> QmpBlock.resolve("cd0", devices(), nodes())).hasMessageContaining("no medium");
    }

    @Test
    void bitmapFlagsAndTheUnnamedJobBitmap() throws Exception {
        BlockNode disk = nodes().getFirst();
        assertThat(disk.bitmaps()).hasSize(3);
        assertThat(disk.namedBitmaps()).extracting(DirtyBitmap::name).containsExactly("c1", "c2");
        assertThat(disk.bitmaps().get(0)).isEqualTo(new DirtyBitmap("c1", 65536, 131072, true, false, false, false));
        assertThat(disk.bitmaps().get(1).inconsistent()).isTrue();
        assertThat(disk.bitmaps().get(2).busy()).isTrue();
    }
}
