package dev.coffer.store.datastore;

import dev.coffer.chunker.SnapshotId;
import java.util.HashMap;
import java.util.Map;

/**
 * Share locks on restore points (safety rule 3): backups hold their base, restores, serve, export
 * and sync readers hold what they read, and prune or delete may remove a restore point only when
 * nobody holds it. In memory: leases die with the server process, which is what a lease should do.
 */
public final class SnapshotLocks {

    private final Map<SnapshotId, Integer> shared = new HashMap<>();

    /** A held share lock; closing releases it (idempotently). */
    public final class Lease implements AutoCloseable {
        private final SnapshotId snapshot;
        private boolean released;

        private Lease(SnapshotId snapshot) {
            this.snapshot = snapshot;
        }

        public SnapshotId snapshot() {
            return snapshot;
        }

        @Override
        public void close() {
            synchronized (SnapshotLocks.this) {
                if (released) {
                    return;
                }
                released = true;
                shared.merge(snapshot, -1, (a, b) -> a + b == 0 ? null : a + b);
            }
        }
    }

    /** Takes a share lock on {@code snapshot}. */
    public synchronized Lease share(SnapshotId snapshot) {
        shared.merge(snapshot, 1, Integer::sum);
        return new Lease(snapshot);
    }

    /** True when someone holds {@code snapshot}: prune skips it, delete refuses. */
    public synchronized boolean isHeld(SnapshotId snapshot) {
        return shared.containsKey(snapshot);
    }
}
