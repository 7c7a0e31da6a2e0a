package dev.coffer.store.security;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.coffer.chunker.Names;
import java.util.Locale;

/**
 * What a token may do where it is granted. Three roles, because a backup system has three kinds
 * of client: hosts that write backups (and must never be able to destroy them, so a stolen host
 * token cannot erase its history), people and tools that look, and the operator.
 */
public enum Role {
    /** Create restore points in groups the token owns and read them; never delete. */
    @JsonProperty("backup") BACKUP,
    /** Read only. */
    @JsonProperty("read") READ,
    /** Everything, including prune, tokens and changing a group's owner. */
    @JsonProperty("admin") ADMIN;

    /** True if this role allows {@code action}. */
    public boolean allows(Action action) {
        return switch (this) {
            case ADMIN -> true;
            case BACKUP -> action == Action.READ || action == Action.BACKUP;
            case READ -> action == Action.READ;
        };
    }

    /** The lowercase name used in tokens.json, the CLI and the API. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The role named {@code name} ({@code backup}, {@code read}, {@code admin}).
     *
     * @throws IllegalArgumentException for any other name
     */
    public static Role of(String name) {
        for (Role r : values()) {
            if (r.wireName().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown role '" + Names.printable(name) + "': use backup, read or admin");
    }
}
