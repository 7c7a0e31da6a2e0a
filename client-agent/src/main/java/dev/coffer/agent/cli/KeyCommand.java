package dev.coffer.agent.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.chunker.KeyFile;
import dev.coffer.store.api.Wire;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code coffer key create|show}: encryption key files, which never leave the client. */
@Command(name = "key", mixinStandardHelpOptions = true, description = "Creates and shows encryption key files.",
        subcommands = {KeyCommand.Create.class, KeyCommand.Show.class})
public final class KeyCommand {

    /** {@code coffer key create FILE}. */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Creates a new random key in FILE (mode 0600, never overwritten).",
                "The passphrase comes from COFFER_PASSPHRASE or is asked twice on the terminal; --no-passphrase stores the key unwrapped.",
                "Keep a copy elsewhere: without the key, encrypted backups cannot be restored by anyone."})
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FILE")
        Path file;

        @Option(names = "--no-passphrase", description = "Store the key without a passphrase (protect the file instead).")
        boolean noPassphrase;

        @Option(names = "--json", description = "Print {\"file\", \"fingerprint\"}.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            char[] pass = null;
            if (!noPassphrase) {
                pass = KeyOptions.passphrase("new passphrase: ");
                if (pass == null) {
                    throw new IllegalArgumentException("no passphrase: set COFFER_PASSPHRASE, run on a terminal, or pass --no-passphrase");
                }
                if (System.getenv("COFFER_PASSPHRASE") == null) {
                    char[] again = System.console().readPassword("repeat passphrase: ");
                    if (!Arrays.equals(pass, again)) {
                        throw new IllegalArgumentException("the passphrases differ");
                    }
                }
            }
            KeyFile kf = KeyFile.create(KeyFile.newMasterKey(), pass, KeyFile.ScryptParams.DEFAULT, Instant.now());
            kf.write(file);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectNode n = Wire.mapper().createObjectNode();
                n.put("file", file.toString());
                n.put("fingerprint", kf.fingerprint());
                out.println(n);
            } else {
                out.println("created key " + kf.fingerprint() + " in " + file);
                out.println("use it with: export COFFER_KEYFILE=" + file.toAbsolutePath());
            }
            out.flush();
            return 0;
        }
    }

    /** {@code coffer key show FILE}. */
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows a key file's fingerprint and creation time.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FILE")
        Path file;

        @Option(names = "--json", description = "Print {\"file\", \"fingerprint\", \"created\", \"passphrase\"}.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            KeyFile kf = KeyFile.read(file);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectNode n = Wire.mapper().createObjectNode();
                n.put("file", file.toString());
                n.put("fingerprint", kf.fingerprint());
                n.put("created", kf.created().toString());
                n.put("passphrase", kf.needsPassphrase());
                out.println(n);
            } else {
                out.println("fingerprint: " + kf.fingerprint());
                out.println("created:     " + kf.created());
                out.println("passphrase:  " + (kf.needsPassphrase() ? "yes" : "no"));
            }
            out.flush();
            return 0;
        }
    }
}
