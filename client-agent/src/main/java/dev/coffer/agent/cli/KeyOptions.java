package dev.coffer.agent.cli;

import dev.coffer.chunker.CryptConfig;
import dev.coffer.chunker.KeyFile;
import java.io.Console;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The encryption key of a client command: {@code --keyfile} or {@code COFFER_KEYFILE}, unlocked
 * with {@code COFFER_PASSPHRASE} or a prompt on the terminal. No key file: no encryption.
 */
public final class KeyOptions {

    @Option(names = "--keyfile", paramLabel = "FILE", description = "Encryption key file (default: $COFFER_KEYFILE; none: unencrypted).")
    Path keyfile;

    /** The unlocked key, or null when none is configured. */
    public CryptConfig load() throws IOException {
        Path file = keyfile != null ? keyfile
                : System.getenv("COFFER_KEYFILE") == null || System.getenv("COFFER_KEYFILE").isEmpty() ? null
                : Path.of(System.getenv("COFFER_KEYFILE"));
        if (file == null) {
            return null;
        }
        KeyFile kf = KeyFile.read(file);
        char[] passphrase = null;
        if (kf.needsPassphrase()) {
            passphrase = passphrase("passphrase for key file " + file + ": ");
        }
        return kf.unlock(passphrase, "key file " + file);
    }

    /** The passphrase from COFFER_PASSPHRASE, else asked on the terminal, else null. */
    static char[] passphrase(String prompt) {
        String env = System.getenv("COFFER_PASSPHRASE");
        if (env != null) {
            return env.toCharArray();
        }
        Console c = System.console();
        return c == null ? null : c.readPassword(prompt);
    }
}
