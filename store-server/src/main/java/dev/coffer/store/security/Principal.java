package dev.coffer.store.security;

import java.util.List;
import java.util.Objects;

/**
 * Who a request comes from, once its bearer token checked out, and what it may do. Every route
 * asks {@link #may} before it acts; the group's owner (a token id, kept by the datastore) is
 * checked by the route itself against {@link #tokenId()}, since ownership is data, not a grant.
 *
 * @param tokenId the token's id, recorded as the owner of groups it creates
 * @param name the token's name, for logs and the dashboard
 * @param grants what it may do where
 */
public record Principal(String tokenId, String name, List<Grant> grants) {

    public Principal {
        Objects.requireNonNull(tokenId, "tokenId");
        Objects.requireNonNull(name, "name");
        grants = List.copyOf(grants);
    }

    /**
     * True if some grant allows {@code action} in {@code datastore} at namespace {@code nsOrNull}
     * (null: the root namespace). Grants add up; none takes anything away.
     */
    public boolean may(Action action, String datastore, String nsOrNull) {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(datastore, "datastore");
        for (Grant g : grants) {
            if (g.role().allows(action) && g.covers(datastore, nsOrNull)) {
                return true;
            }
        }
        return false;
    }

    /**
     * True if {@code action} is allowed somewhere in {@code datastore}, in at least one
     * namespace: enough to list the datastore (the listing then shows only what {@link #may}
     * allows).
     */
    public boolean mayAnywhereIn(Action action, String datastore) {
        for (Grant g : grants) {
            if (g.role().allows(action) && (g.datastore().equals(Grant.ALL_DATASTORES) || g.datastore().equals(datastore))) {
                return true;
            }
        }
        return false;
    }

    /**
     * True if this token may create, list and revoke tokens: only an admin of the whole store,
     * since a token it creates could carry any grant, and an admin of one datastore must not be
     * able to mint itself more.
     */
    public boolean mayManageTokens() {
        for (Grant g : grants) {
            if (g.role() == Role.ADMIN && g.coversEverything()) {
                return true;
            }
        }
        return false;
    }
}
