package dev.coffer.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * The version {@code coffer --version} prints: Coffer's, stamped into a resource at build time, and
 * the JDK's, since both matter in a bug report.
 */
public final class CofferVersion implements IVersionProvider {

    private static final String RESOURCE = "version.properties";

    /** Coffer's version, e.g. {@code 0.1.0-SNAPSHOT}, or {@code unknown} outside a built jar. */
    public static String version() {
        try (InputStream in = CofferVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {
            "coffer " + version(),
            "JDK " + System.getProperty("java.vendor", "") + " " + Runtime.version()
                    + " (" + System.getProperty("java.home", "") + ")"
        };
    }
}
