package dev.coffer.store.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class PrincipalTest {

    private static Principal with(Grant... grants) {
        return new Principal("0123456789ab", "t", List.of(grants));
    }

    /** role → the actions it allows; everything else must be refused. */
    @ParameterizedTest
    @MethodSource("roleTable")
    void shouldAllowExactlyTheActionsOfTheRole(Role role, Action action, boolean allowed) {
        Principal p = with(new Grant("main", null, role));
        assertThat(p.may(action, "main", null)).isEqualTo(allowed);
        assertThat(p.may(action, "main", "site-a/x")).isEqualTo(allowed);
        assertThat(p.may(action, "other", null)).isFalse();
    }

    static Stream<Arguments> roleTable() {
        return Stream.of(
                Arguments.of(Role.READ, Action.READ, true),
                Arguments.of(Role.READ, Action.BACKUP, false),
                Arguments.of(Role.READ, Action.DELETE, false),
                Arguments.of(Role.READ, Action.ADMIN, false),
                Arguments.of(Role.BACKUP, Action.READ, true),
                Arguments.of(Role.BACKUP, Action.BACKUP, true),
                Arguments.of(Role.BACKUP, Action.DELETE, false),
                Arguments.of(Role.BACKUP, Action.ADMIN, false),
                Arguments.of(Role.ADMIN, Action.READ, true),
                Arguments.of(Role.ADMIN, Action.BACKUP, true),
                Arguments.of(Role.ADMIN, Action.DELETE, true),
                Arguments.of(Role.ADMIN, Action.ADMIN, true));
    }

    /** grant (datastore, ns) × request (datastore, ns) → covered? */
    @ParameterizedTest
    @MethodSource("scopeTable")
    void shouldScopeGrantsToDatastoreAndNamespaceSubtree(String gDs, String gNs, String ds, String ns, boolean covered) {
        Principal p = with(new Grant(gDs, gNs, Role.READ));
        assertThat(p.may(Action.READ, ds, ns)).isEqualTo(covered);
    }

    static Stream<Arguments> scopeTable() {
        return Stream.of(
                Arguments.of("*", null, "main", null, true),
                Arguments.of("*", null, "other", "a/b/c", true),
                Arguments.of("main", null, "main", null, true),
                Arguments.of("main", null, "main", "site-a", true),
                Arguments.of("main", null, "mainx", null, false),
                Arguments.of("main", "site-a", "main", "site-a", true),
                Arguments.of("main", "site-a", "main", "site-a/tenant1", true),
                Arguments.of("main", "site-a", "main", "site-a/tenant1/x", true),
                Arguments.of("main", "site-a", "main", null, false),
                Arguments.of("main", "site-a", "main", "site-b", false),
                Arguments.of("main", "site-a", "main", "site-ab", false),
                Arguments.of("main", "site-a", "main", "site", false),
                Arguments.of("main", "site-a", "other", "site-a", false),
                Arguments.of("main", "site-a/t1", "main", "site-a", false),
                Arguments.of("*", "site-a", "any", "site-a/t1", true),
                Arguments.of("*", "site-a", "any", null, false));
    }

    @Test
    void shouldAddUpGrants() {
        Principal p = with(new Grant("main", "site-a", Role.BACKUP), new Grant("*", null, Role.READ));
        assertThat(p.may(Action.BACKUP, "main", "site-a/vm")).isTrue();
        assertThat(p.may(Action.BACKUP, "main", "site-b")).isFalse();
        assertThat(p.may(Action.READ, "other", "site-b")).isTrue();
        assertThat(p.may(Action.DELETE, "main", "site-a")).isFalse();
    }

    @Test
    void shouldListDatastoreWhenAnyNamespaceInItIsGranted() {
        Principal p = with(new Grant("main", "site-a", Role.BACKUP));
        assertThat(p.mayAnywhereIn(Action.READ, "main")).isTrue();
        assertThat(p.mayAnywhereIn(Action.BACKUP, "main")).isTrue();
        assertThat(p.mayAnywhereIn(Action.DELETE, "main")).isFalse();
        assertThat(p.mayAnywhereIn(Action.READ, "other")).isFalse();
        assertThat(with(new Grant("*", "x", Role.READ)).mayAnywhereIn(Action.READ, "other")).isTrue();
    }

    @Test
    void shouldLetOnlyAStoreWideAdminManageTokens() {
        assertThat(with(Grant.admin()).mayManageTokens()).isTrue();
        assertThat(with(new Grant("main", null, Role.ADMIN)).mayManageTokens()).isFalse();
        assertThat(with(new Grant("*", "site-a", Role.ADMIN)).mayManageTokens()).isFalse();
        assertThat(with(new Grant("*", null, Role.BACKUP)).mayManageTokens()).isFalse();
    }

    @Test
    void shouldNameRolesAsTheCliAndFileDo() {
        assertThat(Role.of("backup")).isEqualTo(Role.BACKUP);
        assertThat(Role.ADMIN.wireName()).isEqualTo("admin");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Role.of("root"))
                .hasMessageContaining("unknown role 'root'");
    }
}
