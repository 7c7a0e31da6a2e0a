package dev.coffer.store.http;

/**
 * What the caller of a request may do, as the routes ask it. A thin view over the token's grants,
 * so route code reads as the rules in DESIGN.md: read tokens read, backup tokens write (and read)
 * only groups they own, admins do everything.
 */
public interface Access {

    /** The token's id: the owner recorded for groups it creates. */
    String tokenId();

    /** May read every group of the namespace (read or admin role). */
    boolean mayReadAll(String datastore, String ns);

    /** May create restore points in groups it owns, and read those (backup or admin role). */
    boolean mayBackup(String datastore, String ns);

    /** May delete, protect and prune (admin role). */
    boolean mayAdmin(String datastore, String ns);

    /** May manage tokens (admin of every datastore). */
    boolean isServerAdmin();

    /** May see the datastore at all. */
    default boolean maySee(String datastore) {
        return mayReadAll(datastore, null) || mayBackup(datastore, null) || mayAdmin(datastore, null);
    }
}
