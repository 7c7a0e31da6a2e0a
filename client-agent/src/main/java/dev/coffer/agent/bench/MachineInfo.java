package dev.coffer.agent.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a benchmark figure depends on besides the code: cores, CPU model, memory and JDK. Printed
 * next to every published table, because a figure without its machine cannot be compared.
 *
 * @param cpus the processors this JVM may use
 * @param cpuModel the CPU model from {@code /proc/cpuinfo}, or {@code "unknown CPU"}
 * @param memoryBytes physical memory from {@code /proc/meminfo}, or 0 when unknown
 * @param jdk the JDK's vendor and full version
 */
public record MachineInfo(int cpus, String cpuModel, long memoryBytes, String jdk) {

    /** This machine and JVM (Linux files; other systems get "unknown" parts). */
    public static MachineInfo current() {
        return new MachineInfo(Runtime.getRuntime().availableProcessors(), readCpuModel(), readMemoryBytes(),
                System.getProperty("java.vendor", "unknown vendor") + " " + Runtime.version());
    }

    private static String readCpuModel() {
        for (String line : lines("/proc/cpuinfo")) {
            if (line.startsWith("model name") && line.contains(":")) {
                return line.substring(line.indexOf(':') + 1).strip().replaceAll("\\s+", " ");
            }
        }
        return "unknown CPU";
    }

    private static long readMemoryBytes() {
        for (String line : lines("/proc/meminfo")) {
            if (line.startsWith("MemTotal:")) {
                String[] parts = line.substring(9).strip().split("\\s+");
                try {
                    return Long.parseLong(parts[0]) * 1024;
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** One line, e.g. {@code 2 CPUs (AMD EPYC 7B13), 7.8 GiB RAM, JDK Eclipse Adoptium 25.0.1+8-LTS}. */
    public String describe() {
        String memory = memoryBytes > 0
                ? String.format(Locale.ROOT, ", %.1f GiB RAM", memoryBytes / (1024.0 * 1024 * 1024)) : "";
        return cpus + (cpus == 1 ? " CPU" : " CPUs") + " (" + cpuModel + ")" + memory + ", JDK " + jdk;
    }
}
