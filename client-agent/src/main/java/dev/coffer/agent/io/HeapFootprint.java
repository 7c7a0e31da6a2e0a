package dev.coffer.agent.io;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * What a chunk-sized {@code byte[]} really costs on the heap, for the budgets that decide how many
 * chunks a command may hold at once.
 *
 * <p>Under G1 an array of half a heap region or more is "humongous": it gets whole regions of its
 * own. The agent's 192 MiB heap has 1 MiB regions, so a 1 MiB chunk (1 MiB plus the 16-byte array
 * header) takes two regions — twice its size — and a 4 MiB chunk five. Budgets that counted
 * {@code chunkSize} bytes per chunk filled the whole heap with a cache meant to use half of it
 * ({@code coffer serve} on a 1 MiB datastore died with "Java heap space"). Other collectors
 * allocate arrays as they are, plus the header.
 */
public final class HeapFootprint {

    /** The array header on a 64-bit JVM, rounded up. */
    static final int ARRAY_HEADER = 16;

    private static final long REGION = g1RegionSize();

    private HeapFootprint() {}

    /** Heap bytes a {@code byte[length]} occupies in this JVM. */
    public static long ofArray(int length) {
        return ofArray(length, REGION);
    }

    /** Heap bytes a {@code byte[length]} occupies under G1 regions of {@code region} bytes (0: not G1). */
    static long ofArray(int length, long region) {
        long bytes = (long) length + ARRAY_HEADER;
        if (region <= 0 || bytes < region / 2) {
            return bytes;
        }
        return (bytes + region - 1) / region * region;
    }

    /** The G1 region size of this JVM, or 0 when another collector runs (or the JVM does not say). */
    private static long g1RegionSize() {
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (vm == null || !Boolean.parseBoolean(vm.getVMOption("UseG1GC").getValue())) {
                return 0;
            }
            return Long.parseLong(vm.getVMOption("G1HeapRegionSize").getValue());
        } catch (RuntimeException | LinkageError e) {
            return 0; // not HotSpot: count the array as it is
        }
    }
}
