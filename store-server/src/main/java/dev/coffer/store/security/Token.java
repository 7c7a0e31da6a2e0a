package dev.coffer.store.security;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What the store knows about a token, without its secret: this is what {@code coffer token list}
 * shows. The secret exists in plaintext only once, in the {@link CreatedToken} returned at
 * creation; the store keeps just its SHA-256.
 *
 * @param id 12 lowercase hex characters, also the middle part of the token text
 * @param name the operator's label for it (a host, a person, a tool)
 * @param grants what it may do where
 * @param created when it was created
 * @param revoked when it was revoked, or null while it is valid
 */
public record Token(String id, String name, List<Grant> grants, Instant created, Instant revoked) {

    public Token {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(created, "created");
        grants = List.copyOf(grants);
    }

    /** True until the token is revoked. */
    public boolean active() {
        return revoked == null;
    }
}
