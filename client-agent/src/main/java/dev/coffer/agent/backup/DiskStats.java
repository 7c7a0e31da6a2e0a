package dev.coffer.agent.backup;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one disk's backup: what was read, reused, uploaded, skipped. They go into the
 * manifest (per disk) and the {@code --json} output under the names DESIGN.md promises.
 */
public final class DiskStats {

    final LongAdder readBytes = new LongAdder();
    final LongAdder sampledBytes = new LongAdder();
    final LongAdder reusedBytes = new LongAdder();
    final LongAdder uploadedChunks = new LongAdder();
    final LongAdder uploadedBytes = new LongAdder();
    final LongAdder storedChunks = new LongAdder();
    final LongAdder knownChunks = new LongAdder();
    final LongAdder zeroBytes = new LongAdder();
    final LongAdder holeBytes = new LongAdder();

    public long readBytes() {
        return readBytes.sum();
    }

    public long reusedBytes() {
        return reusedBytes.sum();
    }

    public long uploadedChunks() {
        return uploadedChunks.sum();
    }

    public long uploadedBytes() {
        return uploadedBytes.sum();
    }

    public long zeroBytes() {
        return zeroBytes.sum();
    }

    /** The counters as the manifest records them (integers only, snake_case names). */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("read_bytes", readBytes.sum());
        m.put("sampled_bytes", sampledBytes.sum());
        m.put("reused_bytes", reusedBytes.sum());
        m.put("uploaded_chunks", uploadedChunks.sum());
        m.put("uploaded_bytes", uploadedBytes.sum());
        m.put("stored_chunks", storedChunks.sum());
        m.put("known_chunks", knownChunks.sum());
        m.put("zero_bytes", zeroBytes.sum());
        m.put("hole_bytes", holeBytes.sum());
        return m;
    }
}
