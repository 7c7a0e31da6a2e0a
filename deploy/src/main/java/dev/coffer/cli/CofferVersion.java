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
        String jdk = "JDK " + System.getProperty("java.vendor", "") + " " + Runtime.version()
                + " (" + System.getProperty("java.home", "") + ")";
        String cache = classDataCache(System.getenv("COFFER_AOT_STATE"));
        return cache == null ? new String[] {"coffer " + version(), jdk} : new String[] {"coffer " + version(), jdk, cache};
    }

    /**
     * What bin/coffer did with the class-data cache ({@code COFFER_AOT_STATE}, set by the launcher
     * for every command but {@code server}), in words: the JVM itself says nothing about it.
     *
     * @return the line, or null when not started by the launcher
     */
    static String classDataCache(String state) {
        if (state == null) {
            return null;
        }
        return switch (state) {
            case "in-use" -> "class-data cache: in use (lib/coffer.aot)";
            case "stale" -> "class-data cache: not in use, it was made for another JDK or other jars: run 'coffer aot-cache'";
            case "missing" -> "class-data cache: none: run 'coffer aot-cache' (docs/cli.md)";
            case "off" -> "class-data cache: off (COFFER_AOT=off)";
            default -> "class-data cache: " + state;
        };
    }
}
