package dev.coffer.cli;

import dev.coffer.agent.cli.ArchiveCommand;
import dev.coffer.agent.cli.BackupCommand;
import dev.coffer.agent.cli.ExportCommand;
import dev.coffer.agent.cli.ImportCommand;
import dev.coffer.agent.cli.BenchCommand;
import dev.coffer.agent.cli.KeyCommand;
import dev.coffer.agent.cli.RestoreCommand;
import dev.coffer.agent.cli.ServeCommand;
import dev.coffer.agent.cli.SnapshotsCommand;
import dev.coffer.agent.cli.TokenCommand;
import dev.coffer.store.cli.ServerCommand;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code coffer} root command: one launcher for every operation, as operators and scripts
 * expect (DESIGN.md "Command surface").
 *
 * <p>Modules contribute their subcommand classes; they are listed here and nowhere else. The root
 * makes the promises every subcommand keeps: {@code --help} and {@code --version} everywhere (the
 * attributes are inherited), exit code 0 on success, 2 for bad usage and 1 for a failure, each
 * failure reported as one line on stderr, with a stack trace only under {@code --debug} or
 * {@code COFFER_DEBUG=1}, because operators read the line and developers the trace.
 */
@Command(name = "coffer", scope = ScopeType.INHERIT, mixinStandardHelpOptions = true,
        versionProvider = CofferVersion.class,
        description = "Incremental-forever, deduplicating backup for QEMU/KVM virtual machines.",
        subcommands = {QuickstartCommand.class, ServerCommand.class, BackupCommand.class, SnapshotsCommand.class, RestoreCommand.class, ServeCommand.class,
            ExportCommand.class, ImportCommand.class, ArchiveCommand.class, TokenCommand.class, KeyCommand.class, BenchCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 failure, 2 bad usage. Set COFFER_DEBUG=1 or --debug for stack traces.",
            "bin/coffer itself also runs 'coffer aot-cache': it makes the class-data cache commands start with (docs/cli.md)."})
public final class Coffer implements Callable<Integer> {

    /** Exit code of a command that failed while running. */
    public static final int EXIT_FAILURE = 1;
    /** Exit code of a command line that could not be parsed or made no sense. */
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "Print the stack trace of a failure (also COFFER_DEBUG=1).")
    boolean debug;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command");
    }

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true), System.getenv()));
    }

    /**
     * Runs one command line.
     *
     * @param env the environment, for {@code COFFER_DEBUG}
     * @return the exit code
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
        boolean debug = "1".equals(env.get("COFFER_DEBUG")) || wantsDebug(args);
        if (!debug && !isServer(args)) {
            quietTransportLogs();
        }
        CommandLine cli = new CommandLine(new Coffer());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, ignored) -> {
            CommandLine failed = e.getCommandLine();
            err.println(failed.getCommandSpec().qualifiedName() + ": " + oneLine(e.getMessage())
                    + " (see '" + failed.getCommandSpec().qualifiedName() + " --help')");
            if (debug) {
                e.printStackTrace(err);
            }
            err.flush();
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, failed, parseResult) -> {
            err.println(failed.getCommandSpec().qualifiedName() + ": " + oneLine(describe(e)));
            if (debug) {
                e.printStackTrace(err);
            }
            err.flush();
            return EXIT_FAILURE;
        });
        return cli.execute(args);
    }

    /** Loggers kept referenced: java.util.logging forgets the level of a logger nobody holds. */
    private static final List<Logger> QUIET = new ArrayList<>();

    /**
     * Silences Vert.x's and Netty's own logging in client commands. When the server goes away mid-request
     * they log every reset connection as a SEVERE record of several lines on stderr, while the command
     * already reports the failure as its one line ("cannot reach the store at …"). The server keeps
     * them: there they are its log.
     */
    private static synchronized void quietTransportLogs() {
        for (String name : List.of("io.vertx", "io.netty")) {
            Logger l = Logger.getLogger(name);
            l.setLevel(Level.OFF);
            QUIET.add(l);
        }
    }

    /** True when the command is {@code coffer server}: its first argument that is not an option. */
    private static boolean isServer(String[] args) {
        for (String a : args) {
            if (!a.startsWith("-")) {
                return a.equals("server");
            }
        }
        return false;
    }

    /** True when {@code --debug} stands among the options (before a {@code --}). */
    private static boolean wantsDebug(String[] args) {
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals("--debug")) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        // the JDK's file exceptions carry only the path as their message
        if (e instanceof java.nio.file.NoSuchFileException f) {
            return "no such file or directory: " + f.getFile();
        }
        if (e instanceof java.nio.file.AccessDeniedException f) {
            return "permission denied: " + f.getFile();
        }
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    private static String oneLine(String message) {
        return String.join("; ", List.of(message.strip().split("\\s*\\R\\s*")));
    }
}
