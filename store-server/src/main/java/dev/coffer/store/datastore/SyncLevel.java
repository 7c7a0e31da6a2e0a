package dev.coffer.store.datastore;

import java.util.Locale;

/**
 * How hard a datastore works to make writes survive a power cut, per datastore (PBS's levels).
 * Whatever the level, a restore point is published only after everything it references is
 * durable to that level (safety rule 1).
 */
public enum SyncLevel {
    /** fsync every chunk file and its directory: safest, slowest on many small writes. */
    FILE,
    /** one syncfs(2) of the datastore's filesystem before each publish, plus a synced WAL flush. */
    FILESYSTEM,
    /** no syncing at all: only for tests and throwaway stores. */
    NONE;

    /** The level named {@code file}, {@code filesystem} or {@code none}. */
    public static SyncLevel parse(String text) {
        for (SyncLevel l : values()) {
            if (l.name().toLowerCase(Locale.ROOT).equals(text)) {
                return l;
            }
        }
        throw new IllegalArgumentException("sync-level '" + text + "' is not one of file, filesystem, none");
    }

    /** The name as configured: {@code file}, {@code filesystem}, {@code none}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
