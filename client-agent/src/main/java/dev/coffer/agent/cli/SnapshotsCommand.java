package dev.coffer.agent.cli;

import dev.coffer.store.api.ApiTypes.SnapshotInfo;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code coffer snapshots [GROUP]}: the restore points this token may read, oldest first. */
@Command(name = "snapshots", mixinStandardHelpOptions = true, description = "Lists restore points, oldest first.")
public final class SnapshotsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "GROUP", description = "Only this group (type/id).")
    String group;

    @Option(names = "--json", description = "Print a JSON array of {snapshot, ns, group, time, disks, crypt, verify, protected}.")
    boolean json;

    @Mixin
    StoreOptions store;

    @Override
    public Integer call() throws Exception {
        try (StoreClient client = store.connect(1)) {
            List<SnapshotInfo> all = client.snapshots(store.ns(), group);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(new String(Wire.toBytes(all), java.nio.charset.StandardCharsets.UTF_8));
            } else if (all.isEmpty()) {
                out.println("no restore points");
            } else {
                for (SnapshotInfo s : all) {
                    long size = s.disks().stream().mapToLong(d -> d.size()).sum();
                    out.printf("%-50s %2d disk(s) %10s  %-7s verify=%s%s%n", s.snapshot(), s.disks().size(), ProgressLine.human(size),
                            s.crypt(), s.verify(), s.isProtected() ? " protected" : "");
                }
            }
            out.flush();
        }
        return 0;
    }
}
