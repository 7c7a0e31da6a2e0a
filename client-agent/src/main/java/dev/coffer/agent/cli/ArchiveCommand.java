package dev.coffer.agent.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.agent.archive.ArchiveScan;
import dev.coffer.agent.archive.WorkDir;
import dev.coffer.chunker.ArchiveDamage;
import dev.coffer.chunker.Manifest;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code coffer archive check FILE [--salvage]}: what an archive holds and, if damaged, what is lost. */
@Command(name = "archive", mixinStandardHelpOptions = true, description = "Single-file archives: check one.",
        subcommands = ArchiveCommand.Check.class)
public final class ArchiveCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: check");
    }

    /** Reads a whole archive and reports it; exit 1 when anything is damaged or lost. */
    @Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Reads a whole archive and checks every frame CRC, every blob CRC, the files against the manifest and "
                    + "the trailer against the records, and that every chunk the indexes reference has a record. No key or store is needed.",
                "Without --salvage the first fault stops the check, naming what and where. With --salvage it reads past damage "
                    + "and lists the damaged byte ranges and every chunk lost (disk and offset). Exit 1 when anything is lost."})
    public static final class Check implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FILE|-", description = "The archive file, or - for standard input.")
        String input;

        @Option(names = "--salvage", description = "Read past damage; report what is intact and what is lost.")
        boolean salvage;

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            boolean stdin = input.equals("-");
            if (!stdin && !Files.isRegularFile(Path.of(input))) {
                throw new java.io.IOException("no archive file " + input);
            }
            String name = stdin ? "standard input" : input;
            try (WorkDir work = WorkDir.create("coffer-check-");
                    InputStream in = new BufferedInputStream(stdin ? new FileInputStream(FileDescriptor.in)
                            : Files.newInputStream(Path.of(input)), 1 << 20);
                    ArchiveScan scan = ArchiveScan.run(in, name, salvage, work.path())) {
                Manifest m = scan.header().manifest();
                ArchiveScan.LostReport lost = m == null ? null : scan.lost(m);
                boolean ok = m != null && lost.chunks() == 0 && scan.damage().isEmpty() && scan.header().partial().isEmpty();
                print(name, scan, m, lost, ok);
                if (!ok && !json) {
                    spec.commandLine().getErr().println("coffer archive check: archive " + name + " is damaged"
                            + (lost == null ? " (its manifest is lost)" : ": " + lost.chunks() + " chunk(s) lost"));
                }
                return ok ? 0 : 1;
            }
        }

        private void print(String name, ArchiveScan scan, Manifest m, ArchiveScan.LostReport lost, boolean ok) {
            PrintWriter out = spec.commandLine().getOut();
            ObjectNode o = Wire.mapper().createObjectNode();
            o.put("archive", name);
            o.put("uuid", scan.header().uuid() == null ? null : scan.header().uuid().toString());
            o.put("snapshot", m == null ? null : m.snapshot().path());
            o.put("crypt", m == null ? null : m.encrypted() ? "encrypt" : "none");
            o.put("length", scan.length());
            o.put("records", scan.records());
            o.put("ok", ok);
            ArrayNode dmg = o.putArray("damage");
            for (ArchiveDamage d : scan.damage()) {
                dmg.addObject().put("offset", d.offset()).put("length", d.length()).put("reason", d.reason());
            }
            ArrayNode inc = o.putArray("incomplete_files");
            scan.header().partial().keySet().forEach(inc::add);
            o.put("lost_chunks", lost == null ? null : lost.chunks());
            o.put("lost_bytes", lost == null ? null : lost.bytes());
            ArrayNode la = o.putArray("lost");
            if (lost != null) {
                for (ArchiveScan.Lost l : lost.listed()) {
                    la.addObject().put("disk", l.disk()).put("offset", l.offset()).put("length", l.length()).put("digest", l.digest());
                }
            }
            if (json) {
                out.println(o);
            } else {
                out.printf("archive %s (%s): restore point %s, %s, %d chunk records%n", name, o.get("uuid").asText(),
                        m == null ? "unknown (header lost)" : m.snapshot().path(), ProgressLine.human(scan.length()), scan.records());
                scan.damage().forEach(d -> out.printf("damaged: %d bytes at offset %d: %s%n", d.length(), d.offset(), d.reason()));
                scan.header().partial().forEach((f, p) -> out.println("incomplete file: " + f + " (" + p.gaps().size() + " part(s) lost)"));
                if (lost != null) {
                    lost.listed().forEach(l -> out.println(l.digest() == null
                            ? "lost: disk " + l.disk() + " offset " + l.offset() + ", " + l.length() + " bytes (that part of its index is lost)"
                            : "lost: disk " + l.disk() + " offset " + l.offset() + " chunk " + l.digest()));
                    if (lost.chunks() > lost.listed().size()) {
                        out.printf("… and %d more lost chunks%n", lost.chunks() - lost.listed().size());
                    }
                }
                out.println(ok ? "archive is intact" : "archive is damaged");
            }
            out.flush();
        }
    }
}
