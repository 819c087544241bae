package io.pagedkv.benchmarks.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's load average, which every ratio report prints before and after its run so that a
 * noisy run shows. Reads {@code /proc/loadavg}; stateless, safe from any thread.
 */
public final class LoadAverage {

    private LoadAverage() {
    }

    /** The first three fields of {@code /proc/loadavg} (1, 5 and 15 minutes), or "n/a" where it is not readable. */
    public static String now() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }
}
