package dev.coffer.agent.cli;

import dev.coffer.store.api.ApiTypes.GrantInfo;
import dev.coffer.store.api.ApiTypes.TokenCreateRequest;
import dev.coffer.store.api.ApiTypes.TokenCreated;
import dev.coffer.store.api.ApiTypes.TokenInfo;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import io.vertx.core.http.HttpMethod;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code coffer token create|list|revoke}: access tokens, managed over the API with an admin token. */
@Command(name = "token", mixinStandardHelpOptions = true, description = "Manages access tokens (needs an admin token).",
        subcommands = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class})
public final class TokenCommand {

    /** {@code coffer token create NAME --grant DATASTORE[:NS]=ROLE}. */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Creates a token and prints it once: it is stored only as a hash.",
                "Roles: backup (create restore points in groups it owns, read them, never delete), read, admin."})
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "A name for people, such as host-a.")
        String name;

        @Option(names = "--grant", paramLabel = "DATASTORE[:NS]=ROLE", required = true,
                description = "A permission (repeatable): '*' for every datastore; NS limits it to a namespace and those below.")
        List<String> grants = new ArrayList<>();

        @Option(names = "--json", description = "Print {\"id\", \"token\"}.")
        boolean json;

        @Mixin
        StoreOptions store;

        @Override
        public Integer call() throws Exception {
            List<GrantInfo> parsed = new ArrayList<>();
            for (String g : grants) {
                int eq = g.lastIndexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("--grant '" + g + "' must be DATASTORE[:NS]=ROLE, such as default=backup");
                }
                String where = g.substring(0, eq);
                int colon = where.indexOf(':');
                parsed.add(new GrantInfo(colon < 0 ? where : where.substring(0, colon), colon < 0 ? null : where.substring(colon + 1),
                        g.substring(eq + 1)));
            }
            try (StoreClient client = store.connect(1)) {
                TokenCreated t = Wire.parse(client.bytes(HttpMethod.POST, "/api/v1/tokens",
                        Wire.toBytes(new TokenCreateRequest(name, parsed))), TokenCreated.class);
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(new String(Wire.toBytes(t), java.nio.charset.StandardCharsets.UTF_8));
                } else {
                    out.println("token " + t.id() + " (shown once, keep it safe):");
                    out.println(t.token());
                }
                out.flush();
            }
            return 0;
        }
    }

    /** {@code coffer token list}. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists tokens (never their secrets).")
    static final class ListTokens implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print a JSON array.")
        boolean json;

        @Mixin
        StoreOptions store;

        @Override
        public Integer call() throws Exception {
            try (StoreClient client = store.connect(1)) {
                TokenInfo[] all = Wire.parse(client.bytes(HttpMethod.GET, "/api/v1/tokens", null), TokenInfo[].class);
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(new String(Wire.toBytes(all), java.nio.charset.StandardCharsets.UTF_8));
                } else {
                    for (TokenInfo t : all) {
                        out.printf("%s  %-20s %s%s%n", t.id(), t.name(), t.grants().stream()
                                .map(g -> g.role() + "@" + g.datastore() + (g.ns() == null ? "" : ":" + g.ns())).toList(),
                                t.revoked() == null ? "" : "  revoked " + t.revoked());
                    }
                }
                out.flush();
            }
            return 0;
        }
    }

    /** {@code coffer token revoke ID}. */
    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revokes a token at once.")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Mixin
        StoreOptions store;

        @Override
        public Integer call() throws Exception {
            try (StoreClient client = store.connect(1)) {
                client.bytes(HttpMethod.DELETE, "/api/v1/tokens/" + id, null);
                spec.commandLine().getOut().println("revoked token " + id);
                spec.commandLine().getOut().flush();
            }
            return 0;
        }
    }
}
