package dev.coffer.store.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.chunker.FormatException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class TokenStoreTest {

    private static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final List<Grant> BACKUP_SITE_A = List.of(new Grant("main", "site-a", Role.BACKUP));

    @TempDir
    Path dir;

    private TokenStore open() throws Exception {
        return TokenStore.open(dir, CLOCK);
    }

    private static String secretOf(String plaintext) {
        return plaintext.substring(plaintext.length() - 43);
    }

    @Test
    void shouldCreateTokenInTheDocumentedShapeAndAuthenticateIt() throws Exception {
        TokenStore store = open();
        CreatedToken created = store.create("pve1", BACKUP_SITE_A);

        assertThat(created.plaintext()).matches("coffer_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
                .startsWith("coffer_" + created.token().id() + "_");
        assertThat(created.token()).isEqualTo(new Token(created.token().id(), "pve1", BACKUP_SITE_A, NOW, null));
        assertThat(created.toString()).doesNotContain(secretOf(created.plaintext()));

        Optional<Principal> p = store.authenticate(created.plaintext());
        assertThat(p).contains(new Principal(created.token().id(), "pve1", BACKUP_SITE_A));
    }

    @Test
    void shouldGiveEveryTokenItsOwnIdAndSecret() throws Exception {
        TokenStore store = open();
        CreatedToken a = store.create("a", BACKUP_SITE_A);
        CreatedToken b = store.create("a", BACKUP_SITE_A);
        assertThat(a.token().id()).isNotEqualTo(b.token().id());
        assertThat(secretOf(a.plaintext())).isNotEqualTo(secretOf(b.plaintext()));
        assertThat(store.authenticate(a.plaintext()).orElseThrow().tokenId()).isEqualTo(a.token().id());
        assertThat(store.authenticate(b.plaintext()).orElseThrow().tokenId()).isEqualTo(b.token().id());
    }

    @Test
    void shouldRejectMalformedUnknownAndForgedTokensWithoutThrowing() throws Exception {
        TokenStore store = open();
        String good = store.create("pve1", BACKUP_SITE_A).plaintext();
        String id = good.substring(7, 19);
        String secret = secretOf(good);
        String otherSecret = (secret.charAt(0) == 'A' ? "B" : "A") + secret.substring(1);
        List<String> bad = new ArrayList<>(List.of(
                "", "coffer_", "Bearer " + good, good + " ", " " + good, good.toUpperCase(), good + "x",
                good.substring(0, good.length() - 1), "coffer_" + id + "_" + otherSecret,
                "coffer_000000000000_" + secret, "coffer_" + id.toUpperCase() + "_" + secret,
                "coffer_" + id + "_" + secret.substring(0, 42) + "=", "coffer_" + id + "-" + secret,
                "xoffer_" + id + "_" + secret, "coffer_" + id + "_" + secret.substring(0, 42) + "é",
                "coffer_" + id + "_" + secret.substring(0, 42) + "\u0000", "a".repeat(1 << 20)));
        // an all-digit id upper-cases to itself (p ≈ 0.4%): such a "variant" is the good token
        bad.removeIf(good::equals);
        bad.add(null);
        for (String t : bad) {
            assertThat(store.authenticate(t)).as("token %s", t == null ? null : t.length() > 80 ? "<long>" : t).isEmpty();
        }
        assertThat(store.authenticate(good)).isPresent();
    }

    @Test
    void shouldRefuseRevokedTokensAndKeepThemListed() throws Exception {
        TokenStore store = open();
        CreatedToken t = store.create("pve1", BACKUP_SITE_A);
        CreatedToken other = store.create("pve2", BACKUP_SITE_A);

        Optional<Token> revoked = store.revoke(t.token().id());

        assertThat(revoked).get().extracting(Token::revoked).isEqualTo(NOW);
        assertThat(store.authenticate(t.plaintext())).isEmpty();
        assertThat(store.authenticate(other.plaintext())).isPresent();
        assertThat(store.revoke(t.token().id())).get().extracting(Token::active).isEqualTo(false); // idempotent
        assertThat(store.revoke("000000000000")).isEmpty();
        assertThat(store.revoke("not an id")).isEmpty();
        assertThat(store.list()).extracting(Token::name, Token::active).containsExactly(
                org.assertj.core.groups.Tuple.tuple("pve1", false), org.assertj.core.groups.Tuple.tuple("pve2", true));
    }

    @Test
    void shouldPersistAcrossReopen() throws Exception {
        TokenStore store = open();
        CreatedToken kept = store.create("pve1", BACKUP_SITE_A);
        CreatedToken gone = store.create("alice", List.of(new Grant(Grant.ALL_DATASTORES, null, Role.READ)));
        store.revoke(gone.token().id());

        TokenStore reopened = TokenStore.open(dir);

        assertThat(reopened.list()).isEqualTo(store.list());
        assertThat(reopened.authenticate(kept.plaintext())).contains(new Principal(kept.token().id(), "pve1", BACKUP_SITE_A));
        assertThat(reopened.authenticate(gone.plaintext())).isEmpty();
    }

    @Test
    void shouldNeverWriteASecretAndKeepTheFilePrivate() throws Exception {
        TokenStore store = open();
        List<String> secrets = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            secrets.add(secretOf(store.create("t" + i, BACKUP_SITE_A).plaintext()));
        }
        store.revoke(store.list().getFirst().id());

        Path file = dir.resolve(TokenStore.FILE);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        for (String s : secrets) {
            assertThat(text).doesNotContain(s);
        }
        assertThat(text).contains("\"format\" : \"coffer-tokens-v1\"", "\"secret_sha256\"", "\"role\" : \"backup\"", "\"ns\" : \"site-a\"");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("tokens.json", ".tokens.json.lock");
        }
    }

    @Test
    void shouldBootstrapOneAdminTokenOnlyIntoAnEmptyStore() throws Exception {
        TokenStore store = open();
        Optional<String> admin = store.ensureAdmin();

        assertThat(admin).isPresent();
        Principal p = store.authenticate(admin.get()).orElseThrow();
        assertThat(p.name()).isEqualTo("admin");
        assertThat(p.grants()).containsExactly(new Grant("*", null, Role.ADMIN));
        assertThat(p.mayManageTokens()).isTrue();
        assertThat(store.ensureAdmin()).isEmpty();
        assertThat(TokenStore.open(dir).ensureAdmin()).isEmpty();

        store.revoke(p.tokenId());
        assertThat(store.ensureAdmin()).as("revoked tokens still count: no silent new admin").isEmpty();
    }

    @Test
    void shouldSeeChangesMadeByAnotherProcessAndNotLoseThem() throws Exception {
        TokenStore server = open();
        CreatedToken a = server.create("a", BACKUP_SITE_A);
        TokenStore cli = TokenStore.open(dir, CLOCK);
        CreatedToken b = cli.create("b", BACKUP_SITE_A);

        CreatedToken c = server.create("c", BACKUP_SITE_A); // re-reads under the lock: b survives
        assertThat(TokenStore.open(dir).list()).extracting(Token::name).containsExactly("a", "b", "c");

        cli.revoke(a.token().id());
        assertThat(server.authenticate(a.plaintext())).isPresent();
        server.reload();
        assertThat(server.authenticate(a.plaintext())).isEmpty();
        assertThat(server.authenticate(b.plaintext())).isPresent();
        assertThat(server.authenticate(c.plaintext())).isPresent();
    }

    @Test
    void shouldCreateConcurrentlyWithoutLosingTokens() throws Exception {
        TokenStore store = open();
        List<String> plaintexts = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                int n = i;
                fs.add(pool.submit(() -> {
                    plaintexts.add(store.create("t" + n, BACKUP_SITE_A).plaintext());
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        TokenStore reopened = TokenStore.open(dir);
        assertThat(reopened.list()).hasSize(20);
        for (String p : plaintexts) {
            assertThat(reopened.authenticate(p)).isPresent();
        }
    }

    @Test
    void shouldRejectBadNamesAndEmptyGrants() throws Exception {
        TokenStore store = open();
        assertThatThrownBy(() -> store.create("bad name", BACKUP_SITE_A)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token name 'bad name' is invalid");
        assertThatThrownBy(() -> store.create("x", List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Grant("../etc", null, Role.READ)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Grant("main", "a/../b", Role.READ)).isInstanceOf(IllegalArgumentException.class);
        assertThat(dir.resolve(TokenStore.FILE)).doesNotExist();
    }

    @Test
    void shouldRefuseToOpenADamagedFile() throws Exception {
        open().create("pve1", BACKUP_SITE_A);
        Path file = dir.resolve(TokenStore.FILE);
        String good = Files.readString(file);

        for (String damaged : List.of(
                "{", "[]", "{\"format\":\"other\",\"tokens\":[]}",
                good.replace("\"backup\"", "\"superuser\""),
                good.replace("\"site-a\"", "\"../x\""),
                good.replaceFirst("\"secret_sha256\" : \"[0-9a-f]{64}\"", "\"secret_sha256\" : \"abc\""),
                good.replaceFirst("\"created\" : \"[^\"]+\"", "\"created\" : \"yesterday\""))) {
            Files.writeString(file, damaged);
            assertThatThrownBy(() -> TokenStore.open(dir)).as(damaged)
                    .isInstanceOf(FormatException.class)
                    .hasMessageContaining(file.toString());
        }
    }
}
