package io.pagedkv.examples.simulate;

import java.util.Locale;

/**
 * Parses and prints memory sizes as people write them: {@code 24GiB}, {@code 512MiB}, {@code 8GB},
 * {@code 1048576}. Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (KB, MB, GB,
 * TB) powers of 1000; a bare number is bytes. Stateless and thread-safe.
 */
public final class ByteSize {

    private static final String[] BINARY = {"kib", "mib", "gib", "tib"};
    private static final String[] DECIMAL = {"kb", "mb", "gb", "tb"};

    private ByteSize() {
    }

    /**
     * Bytes of {@code text}.
     *
     * @throws IllegalArgumentException naming the text when it is not a positive size
     */
    public static long parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT).replace(" ", "");
        long unit = 1;
        String number = t;
        for (int i = 0; i < BINARY.length; i++) {
            if (t.endsWith(BINARY[i])) {
                unit = 1L << (10 * (i + 1));
                number = t.substring(0, t.length() - 3);
            } else if (t.endsWith(DECIMAL[i])) {
                unit = (long) Math.pow(1000, i + 1);
                number = t.substring(0, t.length() - 2);
            }
        }
        if (unit == 1 && t.endsWith("b")) {
            number = t.substring(0, t.length() - 1);
        }
        double value;
        try {
            value = Double.parseDouble(number);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("memory: '" + text + "' (expected a size like 24GiB, 512MiB or 8GB)", e);
        }
        double bytes = value * unit;
        if (!(bytes >= 1) || bytes > Long.MAX_VALUE / 2 || Double.isNaN(bytes)) {
            throw new IllegalArgumentException("memory: '" + text + "' (expected: a positive size below 4 EiB)");
        }
        return (long) bytes;
    }

    /** {@code bytes} in GiB with two decimals, e.g. {@code 3.75 GiB}. */
    public static String gib(double bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (1L << 30));
    }
}
