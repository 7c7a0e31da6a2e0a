package dev.coffer.store.security;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.coffer.chunker.Names;
import java.util.Objects;

/**
 * One permission of a token: a role in a datastore ({@code "*"} for every datastore) and a
 * namespace subtree ({@code null} for every namespace, including the root; otherwise that
 * namespace and the ones below it). Namespaces are how one store serves several tenants or
 * sites, so a grant can be cut down to one of them.
 *
 * @param datastore a datastore name, or {@link #ALL_DATASTORES}
 * @param ns a namespace path such as {@code site-a/tenant1}, or null for all of them
 * @param role what the grant allows there
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Grant(
        @JsonProperty("datastore") String datastore,
        @JsonProperty("ns") String ns,
        @JsonProperty("role") Role role) {

    /** The datastore wildcard. */
    public static final String ALL_DATASTORES = "*";

    /**
     * @throws IllegalArgumentException if the datastore or namespace name is invalid
     */
    public Grant {
        Objects.requireNonNull(datastore, "datastore");
        Objects.requireNonNull(role, "role");
        if (!datastore.equals(ALL_DATASTORES)) {
            Names.datastore(datastore);
        }
        Names.namespace(ns);
    }

    /** Every datastore, every namespace, admin: what the bootstrap token gets. */
    public static Grant admin() {
        return new Grant(ALL_DATASTORES, null, Role.ADMIN);
    }

    /** True if this grant reaches {@code datastore} and namespace {@code nsOrNull} (null: the root). */
    public boolean covers(String datastore, String nsOrNull) {
        if (!this.datastore.equals(ALL_DATASTORES) && !this.datastore.equals(datastore)) {
            return false;
        }
        if (ns == null) {
            return true;
        }
        return nsOrNull != null && (nsOrNull.equals(ns) || nsOrNull.startsWith(ns + "/"));
    }

    /** True if this grant covers the whole store: every datastore and every namespace. */
    public boolean coversEverything() {
        return datastore.equals(ALL_DATASTORES) && ns == null;
    }

    @Override
    public String toString() {
        return role.wireName() + " on " + datastore + (ns == null ? "" : " ns " + ns);
    }
}
