package dev.coffer.agent.cli;

import dev.coffer.agent.archive.ArchiveImport;
import dev.coffer.agent.archive.WorkDir;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import java.io.BufferedInputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code coffer import [FILE|-]}: loads a single-file archive into the store named by COFFER_STORE. */
@Command(name = "import", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Loads a single-file archive (from 'coffer export') into the store as a restore point with its original "
                + "group and time. Reads the archive front to back, so a pipe works.",
            "Every chunk goes through the server's checks; chunks the datastore already holds are kept, not stored twice. "
                + "The restore point is published only after the whole archive proved intact; a damaged archive publishes "
                + "nothing (see 'coffer archive check --salvage' and 'coffer restore --from-archive --salvage')."})
public final class ImportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE|-", defaultValue = "-",
            description = "The archive file, or - for standard input (the default).")
    String input;

    @Option(names = "--workers", paramLabel = "N", description = "Chunks uploaded in parallel (default: 4).")
    int workers = 4;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Mixin
    StoreOptions store;

    @Override
    public Integer call() throws Exception {
        boolean stdin = input.equals("-");
        if (!stdin && !Files.isRegularFile(Path.of(input))) {
            throw new java.io.IOException("no archive file " + input);
        }
        ArchiveImport.Result r;
        try (StoreClient client = store.connect(workers + 2); WorkDir work = WorkDir.create("coffer-import-");
                InputStream in = new BufferedInputStream(stdin ? new FileInputStream(FileDescriptor.in)
                        : Files.newInputStream(Path.of(input)), 1 << 20);
                ProgressLine progress = new ProgressLine("import", stdin ? 0 : Files.size(Path.of(input)))) {
            r = ArchiveImport.run(client, in, stdin ? "standard input" : input, work.path(), workers, progress);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new String(Wire.toBytes(r), java.nio.charset.StandardCharsets.UTF_8));
        } else {
            out.printf("imported %s: %d chunk records (%d stored, %d already held; %d sent), archive %s, in %.1f s%n", r.snapshot(),
                    r.records(), r.storedChunks(), r.keptChunks(), r.uploadedChunks(), ProgressLine.human(r.bytes()), r.durationS());
        }
        out.flush();
        return 0;
    }
}
