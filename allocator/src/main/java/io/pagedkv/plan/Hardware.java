package io.pagedkv.plan;

import java.util.Locale;

/**
 * Memory of common inference hardware, as a planning budget.
 *
 * <p>GPU memory is built from chips whose capacities are powers of two, so a card sold as "24 GB"
 * holds 24 GiB (24 x 2^30 bytes); the presets use that binary capacity. Drivers and the CUDA context
 * keep a few hundred MiB of it, which belongs in the plan's overhead term. Apple's unified memory is
 * shared with the CPU and the OS: by default macOS lets the GPU wire about 75% of it on large
 * machines (adjustable with {@code sysctl iogpu.wired_limit_mb}), so the M4 Max preset budgets 75%
 * of its 128 GiB. Immutable and thread-safe.
 */
public enum Hardware {
    /** NVIDIA GeForce RTX 4090: 24 GiB GDDR6X. */
    RTX_4090("rtx-4090", 24, 100),
    /** NVIDIA GeForce RTX 5090: 32 GiB GDDR7. */
    RTX_5090("rtx-5090", 32, 100),
    /** NVIDIA H100 (SXM or PCIe, 80 GB): 80 GiB HBM. */
    H100("h100", 80, 100),
    /** NVIDIA H200: 141 GiB HBM3e. */
    H200("h200", 141, 100),
    /** Apple M4 Max with 128 GiB unified memory, of which 75% is usable by the GPU by default. */
    M4_MAX("m4-max", 128, 75);

    private final String label;
    private final long totalBytes;
    private final int usablePercent;

    Hardware(String label, long gib, int usablePercent) {
        this.label = label;
        this.totalBytes = gib * ByteSize.GIB;
        this.usablePercent = usablePercent;
    }

    /** Lower-case name used on the command line, e.g. {@code h100}. */
    public String label() {
        return label;
    }

    /** All the device's memory, in bytes. */
    public long totalBytes() {
        return totalBytes;
    }

    /** Percent of the memory that inference may use (100 for GPUs, 75 for the M4 Max). */
    public int usablePercent() {
        return usablePercent;
    }

    /** The planning budget: {@code totalBytes * usablePercent / 100}. */
    public long usableBytes() {
        return Math.multiplyExact(totalBytes, usablePercent) / 100;
    }

    /**
     * The preset named {@code name} (case-insensitive; {@code rtx4090}, {@code 4090} and {@code _}
     * spellings accepted).
     *
     * @throws IllegalArgumentException naming the input and every preset
     */
    public static Hardware parse(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
            for (Hardware h : values()) {
                String compact = h.label.replace("-", "");
                if (h.label.equals(n) || compact.equals(n.replace("-", ""))
                        || h.label.substring(h.label.indexOf('-') + 1).equals(n) && h.label.startsWith("rtx")) {
                    return h;
                }
            }
        }
        StringBuilder names = new StringBuilder();
        for (Hardware h : values()) {
            names.append(names.isEmpty() ? "" : ", ").append(h.label);
        }
        throw new IllegalArgumentException("gpu: '" + name + "' (expected one of " + names + ")");
    }

    @Override
    public String toString() {
        return label;
    }
}
