package dev.coffer.agent.cli;

import dev.coffer.agent.archive.ArchiveExport;
import dev.coffer.agent.archive.WorkDir;
import dev.coffer.chunker.SnapshotId;
import dev.coffer.store.api.StoreClient;
import dev.coffer.store.api.Wire;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code coffer export SNAPSHOT [-o FILE|-]}: one restore point as a single-file archive. A file
 * is written under a temp name and renamed when complete, so a failed export leaves no
 * half-archive that looks whole; {@code -} streams to standard output (a pipe, {@code ssh}), and
 * the result then goes to standard error.
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes one restore point as a single-file archive: manifest, config files, indexes, then each stored "
                + "chunk once (encrypted restore points stay encrypted; no key is needed), then a trailer index.",
            "The archive streams: it can go to a pipe. Load it with 'coffer import', restore from it with "
                + "'coffer restore --from-archive', check it with 'coffer archive check'."})
public final class ExportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "The restore point, such as vm/101/2026-11-22T10:00:00Z.")
    String snapshot;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE|-", defaultValue = "-",
            description = "The archive file, or - for standard output (the default).")
    String output;

    @Option(names = "--overwrite", description = "Replace an existing archive file.")
    boolean overwrite;

    @Option(names = "--workers", paramLabel = "N", description = "Chunks fetched in parallel (default: 4).")
    int workers = 4;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Mixin
    StoreOptions store;

    @Override
    public Integer call() throws Exception {
        SnapshotId id = SnapshotId.parsePath(snapshot);
        boolean toStdout = output.equals("-");
        ArchiveExport.Result r;
        try (StoreClient client = store.connect(workers + 2); WorkDir work = WorkDir.create("coffer-export-")) {
            if (toStdout) {
                if (System.console() != null && System.console().isTerminal()) {
                    throw new IllegalArgumentException("will not write an archive to a terminal: use -o FILE or a pipe");
                }
                OutputStream out = new FileOutputStream(FileDescriptor.out);
                r = ArchiveExport.run(client, id.path(), out, work.path(), workers, n -> { });
                out.flush();
            } else {
                r = toFile(client, id, Path.of(output), work.path());
            }
        }
        print(r, toStdout ? new PrintWriter(System.err, true) : spec.commandLine().getOut());
        return 0;
    }

    private ArchiveExport.Result toFile(StoreClient client, SnapshotId id, Path target, Path work) throws IOException {
        Path abs = target.toAbsolutePath();
        if (Files.exists(abs) && !overwrite) {
            throw new IOException(abs + " exists; pass --overwrite to replace it");
        }
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName() + ".", ".tmp");
        try {
            ArchiveExport.Result r;
            try (FileOutputStream fos = new FileOutputStream(tmp.toFile());
                    OutputStream out = new BufferedOutputStream(fos, 1 << 20);
                    ProgressLine progress = new ProgressLine("export " + id, 0)) {
                r = ArchiveExport.run(client, id.path(), out, work, workers, progress);
                out.flush();
                fos.getChannel().force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            dev.coffer.chunker.AtomicFiles.fsyncDirectory(abs.getParent());
            return r;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void print(ArchiveExport.Result r, PrintWriter out) {
        if (json) {
            out.println(new String(Wire.toBytes(r), java.nio.charset.StandardCharsets.UTF_8));
        } else {
            out.printf("exported %s: %s, %d chunk records (%d repeated and %d zero chunks not stored again), archive %s in %.1f s%n",
                    r.snapshot(), ProgressLine.human(r.bytes()), r.records(), r.duplicateChunks(), r.zeroChunks(), r.archiveUuid(),
                    r.durationS());
        }
        out.flush();
    }
}
