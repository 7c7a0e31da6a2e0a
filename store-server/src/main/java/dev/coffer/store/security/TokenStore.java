package dev.coffer.store.security;

import dev.coffer.chunker.Names;
import dev.coffer.store.security.TokenFile.Stored;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The API tokens of one store, kept in {@value #FILE} in the server's state directory.
 *
 * <p>A token reads {@code coffer_<12 hex id>_<43 base64url characters>}: the id finds the entry
 * without a search and shows up in logs and listings, the secret is 32 random bytes. The store
 * keeps only SHA-256 of the secret part (its 43 ASCII characters), so a copy of the file lets no
 * one in, and a token is shown exactly once, when {@link #create} returns it. Lost tokens are
 * revoked and replaced, never recovered.
 *
 * <p>{@link #authenticate} never blocks and never throws on bad input, so the HTTP layer can call
 * it for every request: it reads an immutable snapshot that changes swap in whole. Changes take
 * a lock file as well as this object's monitor and re-read the file first, so a {@code coffer
 * token} command run beside a live server never loses the other's change; a running server sees
 * such a change after {@link #reload()}.
 */
public final class TokenStore {

    /** The file name in the state directory. */
    public static final String FILE = "tokens.json";
    /** The token text's prefix, so a leaked token is recognisable (and greppable) as Coffer's. */
    public static final String PREFIX = "coffer_";

    private static final int SECRET_BYTES = 32;
    private static final Pattern TOKEN = Pattern.compile("coffer_([0-9a-f]{12})_([A-Za-z0-9_-]{43})");
    private static final int TOKEN_LENGTH = PREFIX.length() + 12 + 1 + 43;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}");
    /** Compared against when the id is unknown, so unknown ids cost the same as wrong secrets. */
    private static final byte[] NO_HASH = new byte[32];

    private final Path file;
    private final Path lockFile;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private volatile Map<String, Stored> tokens;

    private TokenStore(Path file, Clock clock, Map<String, Stored> tokens) {
        this.file = file;
        this.lockFile = file.resolveSibling("." + FILE + ".lock");
        this.clock = clock;
        this.tokens = frozen(tokens);
    }

    /** Opens the token store in {@code stateDir} with the system clock. */
    public static TokenStore open(Path stateDir) throws IOException {
        return open(stateDir, Clock.systemUTC());
    }

    /**
     * Opens the token store in {@code stateDir}; a missing file is an empty store (the file is
     * created by the first change).
     *
     * @throws IOException if the file cannot be read or is damaged (a {@code FormatException})
     */
    public static TokenStore open(Path stateDir, Clock clock) throws IOException {
        Path file = stateDir.resolve(FILE);
        return new TokenStore(file, Objects.requireNonNull(clock, "clock"), TokenFile.read(file));
    }

    /**
     * The principal a bearer token stands for, if it is well formed, known, not revoked and its
     * secret matches. Anything else, including null or garbage, is empty: no exceptions.
     *
     * @param bearerToken the token text, without the {@code Bearer } prefix
     */
    public Optional<Principal> authenticate(String bearerToken) {
        if (bearerToken == null || bearerToken.length() != TOKEN_LENGTH) {
            return Optional.empty();
        }
        Matcher m = TOKEN.matcher(bearerToken);
        if (!m.matches()) {
            return Optional.empty();
        }
        Stored s = tokens.get(m.group(1));
        byte[] expected = s == null ? NO_HASH : HexFormat.of().parseHex(s.secretSha256());
        // constant time: how much of the hash matched must not show in the response time
        boolean match = MessageDigest.isEqual(expected, hash(m.group(2)));
        if (s == null || !match || !s.token().active()) {
            return Optional.empty();
        }
        Token t = s.token();
        return Optional.of(new Principal(t.id(), t.name(), t.grants()));
    }

    /**
     * Creates a token and returns it with its plaintext, which is shown this once.
     *
     * @param name a label: letters, digits, '_', '.', '@', '-', at most 64
     * @param grants what it may do where; at least one
     * @throws IllegalArgumentException for a bad name or no grants
     * @throws IOException if the file cannot be written (then no token was created)
     */
    public synchronized CreatedToken create(String name, List<Grant> grants) throws IOException {
        return create(name, grants, false).orElseThrow();
    }

    private Optional<CreatedToken> create(String name, List<Grant> grants, boolean onlyIntoEmptyStore) throws IOException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("token name '" + Names.printable(name)
                    + "' is invalid: letters, digits, '_', '.', '@' and '-', at most 64, starting with a letter or digit");
        }
        if (grants.isEmpty()) {
            throw new IllegalArgumentException("a token needs at least one grant, or it could do nothing");
        }
        List<Grant> copy = List.copyOf(grants);
        byte[] secretBytes = new byte[SECRET_BYTES];
        random.nextBytes(secretBytes);
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Token[] created = new Token[1];
        change(current -> {
            if (onlyIntoEmptyStore && !current.isEmpty()) {
                return current;
            }
            String id;
            do {
                byte[] idBytes = new byte[6];
                random.nextBytes(idBytes);
                id = HexFormat.of().formatHex(idBytes);
            } while (current.containsKey(id));
            created[0] = new Token(id, name, copy, now, null);
            Map<String, Stored> next = new LinkedHashMap<>(current);
            next.put(id, new Stored(created[0], HexFormat.of().formatHex(hash(secret))));
            return next;
        });
        return created[0] == null
                ? Optional.empty()
                : Optional.of(new CreatedToken(created[0], PREFIX + created[0].id() + "_" + secret));
    }

    /** Every token, revoked ones included, in creation order; never a secret. */
    public List<Token> list() {
        return tokens.values().stream().map(Stored::token).toList();
    }

    /**
     * Revokes the token with this id; revoking a revoked token changes nothing.
     *
     * @return the token as it is now, or empty if there is no token with this id
     * @throws IOException if the file cannot be written (then the token is still valid)
     */
    public synchronized Optional<Token> revoke(String id) throws IOException {
        if (id == null || !TokenFile.ID.matcher(id).matches()) {
            return Optional.empty();
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        change(current -> {
            Stored s = current.get(id);
            if (s == null || !s.token().active()) {
                return current;
            }
            Token t = s.token();
            Map<String, Stored> next = new LinkedHashMap<>(current);
            next.put(id, new Stored(new Token(t.id(), t.name(), t.grants(), t.created(), now), s.secretSha256()));
            return next;
        });
        return Optional.ofNullable(tokens.get(id)).map(Stored::token);
    }

    /**
     * On a store with no tokens at all, creates the first one, named {@code admin}, with admin
     * rights on every datastore and namespace, and returns its plaintext (print it once, at
     * server start). On any other store, returns empty.
     */
    public synchronized Optional<String> ensureAdmin() throws IOException {
        // checked under the file lock, so two first starts cannot both mint an admin token
        return create("admin", List.of(Grant.admin()), true).map(CreatedToken::plaintext);
    }

    /** Re-reads the file, to pick up changes another process (the CLI) made. */
    public synchronized void reload() throws IOException {
        tokens = frozen(TokenFile.read(file));
    }

    /** The file the tokens live in. */
    public Path file() {
        return file;
    }

    /** Re-reads under the lock, applies {@code change}, writes, and only then publishes. */
    private void change(UnaryOperator<Map<String, Stored>> change) throws IOException {
        // the lock file holds nothing; mode 0600 only so no one else can take the lock
        try (FileChannel ch = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                FileLock lock = ch.lock()) {
            Map<String, Stored> current = TokenFile.read(file);
            Map<String, Stored> next = change.apply(current);
            if (next != current) {
                TokenFile.write(file, next);
            }
            tokens = frozen(next);
        }
    }

    private static Map<String, Stored> frozen(Map<String, Stored> tokens) {
        return Collections.unmodifiableMap(new LinkedHashMap<>(tokens));
    }

    private static byte[] hash(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
