package dev.coffer.store.security;

/**
 * A token just created, with its plaintext: the one moment the secret exists outside the
 * client. Show {@link #plaintext()} to the operator once and drop it; {@link #toString()} does
 * not include it, so logging this record by accident leaks nothing.
 *
 * @param token the stored description (id, name, grants)
 * @param plaintext {@code coffer_<id>_<secret>}, what clients send as {@code Authorization: Bearer}
 */
public record CreatedToken(Token token, String plaintext) {

    @Override
    public String toString() {
        return "CreatedToken[" + token + ", plaintext=<shown once>]";
    }
}
