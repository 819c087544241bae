package io.pagedkv.plan;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A number of bytes, parsed from and printed in explicit units: decimal {@code KB MB GB TB}
 * (powers of 10^3) and binary {@code KiB MiB GiB TiB} (powers of 2^10).
 *
 * <p>Parsing is strict: a bare {@code K}, {@code M}, {@code G} or {@code T} is rejected as ambiguous,
 * a fraction must come out as a whole number of bytes ({@code 1.5GiB} is fine, {@code 1.1B} is not),
 * and nothing is rounded or clamped. Immutable and thread-safe.
 *
 * @param bytes the number of bytes, {@code >= 0}
 */
public record ByteSize(long bytes) {

    /** Bytes in a kilobyte (10^3). */
    public static final long KB = 1_000L;
    /** Bytes in a megabyte (10^6). */
    public static final long MB = 1_000_000L;
    /** Bytes in a gigabyte (10^9). */
    public static final long GB = 1_000_000_000L;
    /** Bytes in a terabyte (10^12). */
    public static final long TB = 1_000_000_000_000L;
    /** Bytes in a kibibyte (2^10). */
    public static final long KIB = 1L << 10;
    /** Bytes in a mebibyte (2^20). */
    public static final long MIB = 1L << 20;
    /** Bytes in a gibibyte (2^30). */
    public static final long GIB = 1L << 30;
    /** Bytes in a tebibyte (2^40). */
    public static final long TIB = 1L << 40;

    private static final Pattern SYNTAX = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([A-Za-z]*)");

    /** Checks that the size is not negative. */
    public ByteSize {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes: " + bytes + " (expected: >= 0)");
        }
    }

    /** {@code n} gibibytes. */
    public static ByteSize ofGiB(long n) {
        return new ByteSize(Math.multiplyExact(n, GIB));
    }

    /**
     * Parses {@code "80GiB"}, {@code "24 GB"}, {@code "512MiB"}, {@code "1.5TiB"}, {@code "1000"} (bytes).
     *
     * @throws IllegalArgumentException naming the input and what is accepted
     */
    public static ByteSize parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("size: null (expected: e.g. 80GiB or 24GB)");
        }
        Matcher m = SYNTAX.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("size: '" + text
                    + "' (expected: a non-negative number and a unit, e.g. 80GiB, 24GB, 512MiB)");
        }
        long unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1;
            case "kb" -> KB;
            case "mb" -> MB;
            case "gb" -> GB;
            case "tb" -> TB;
            case "kib" -> KIB;
            case "mib" -> MIB;
            case "gib" -> GIB;
            case "tib" -> TIB;
            case "k", "m", "g", "t" -> throw new IllegalArgumentException("size: '" + text + "' has the ambiguous unit '"
                    + m.group(2) + "' (expected: " + m.group(2).toUpperCase(Locale.ROOT) + "B for powers of 10 or "
                    + m.group(2).toUpperCase(Locale.ROOT) + "iB for powers of 2)");
            default -> throw new IllegalArgumentException("size: '" + text + "' has the unknown unit '" + m.group(2)
                    + "' (expected one of B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
        };
        BigDecimal exact = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
        if (exact.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException("size: '" + text + "' is " + exact.toPlainString()
                    + " bytes (expected: a whole number of bytes)");
        }
        if (exact.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("size: '" + text + "' (expected: <= " + Long.MAX_VALUE + " bytes)");
        }
        return new ByteSize(exact.longValueExact());
    }

    /** This size in gigabytes (10^9 bytes). */
    public double gb() {
        return bytes / (double) GB;
    }

    /** This size in gibibytes (2^30 bytes). */
    public double gib() {
        return bytes / (double) GIB;
    }

    /** Both units, e.g. {@code "42.95 GB / 40.00 GiB"}. */
    public String both() {
        return both(bytes);
    }

    /** Both units of a possibly negative byte count, e.g. {@code "-1.07 GB / -1.00 GiB"}. */
    public static String both(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB / %.2f GiB", bytes / (double) GB, bytes / (double) GIB);
    }

    /** The shortest exact binary spelling, e.g. {@code "80GiB"}, or plain bytes, e.g. {@code "1000B"}. */
    @Override
    public String toString() {
        long[] units = {TIB, GIB, MIB, KIB};
        String[] names = {"TiB", "GiB", "MiB", "KiB"};
        for (int i = 0; i < units.length; i++) {
            if (bytes != 0 && bytes % units[i] == 0) {
                return bytes / units[i] + names[i];
            }
        }
        return bytes + "B";
    }
}
