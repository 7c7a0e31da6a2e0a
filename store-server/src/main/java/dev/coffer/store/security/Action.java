package dev.coffer.store.security;

/**
 * What a request wants to do, as far as authorization cares. The HTTP routes map to these four
 * so that the permission table in {@link Role} stays small enough to read at a glance.
 */
public enum Action {
    /** List datastores, namespaces, groups and restore points; read manifests, indexes, chunks. */
    READ,
    /** Start a backup session and create a restore point (in a group the token owns). */
    BACKUP,
    /** Remove restore points: prune and forget. */
    DELETE,
    /** Everything else: tokens, a group's owner, datastore settings, GC. */
    ADMIN
}
