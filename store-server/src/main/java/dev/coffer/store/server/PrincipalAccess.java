package dev.coffer.store.server;

import dev.coffer.store.security.Action;
import dev.coffer.store.security.Grant;
import dev.coffer.store.security.Principal;
import dev.coffer.store.security.Role;

/**
 * The HTTP routes' view of a token's grants. "Read all" comes only from a read or admin grant: a
 * backup grant reads just the groups its token owns, which the routes check against the owner.
 */
record PrincipalAccess(Principal principal) implements dev.coffer.store.http.Access {

    @Override
    public String tokenId() {
        return principal.tokenId();
    }

    @Override
    public boolean mayReadAll(String datastore, String ns) {
        for (Grant g : principal.grants()) {
            if ((g.role() == Role.READ || g.role() == Role.ADMIN) && g.covers(datastore, ns)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean mayBackup(String datastore, String ns) {
        return principal.may(Action.BACKUP, datastore, ns);
    }

    @Override
    public boolean mayAdmin(String datastore, String ns) {
        return principal.may(Action.DELETE, datastore, ns) && principal.may(Action.ADMIN, datastore, ns);
    }

    @Override
    public boolean isServerAdmin() {
        return principal.mayManageTokens();
    }

    @Override
    public boolean maySee(String datastore) {
        return principal.mayAnywhereIn(Action.READ, datastore);
    }
}
