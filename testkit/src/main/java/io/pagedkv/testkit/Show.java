package io.pagedkv.testkit;

import java.util.Arrays;

/** Renders generated values for failure messages: arrays by content, strings quoted, floats exactly. */
final class Show {
    private Show() {
    }

    static String value(Object v) {
        return switch (v) {
            case null -> "null";
            case float[] a -> Arrays.toString(a);
            case double[] a -> Arrays.toString(a);
            case int[] a -> Arrays.toString(a);
            case long[] a -> Arrays.toString(a);
            case short[] a -> Arrays.toString(a);
            case byte[] a -> Arrays.toString(a);
            case char[] a -> Arrays.toString(a);
            case boolean[] a -> Arrays.toString(a);
            case Object[] a -> Arrays.deepToString(a);
            case String s -> '"' + s + '"';
            case Float f -> f.isNaN() ? "NaN(0x" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")" : f + "f";
            default -> v.toString();
        };
    }

    static String indent(String text) {
        return "  " + text.replace("\n", "\n  ");
    }

    /** The first line of a throwable's description. */
    static String failure(Throwable t) {
        String s = t.toString();
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl) + " ...";
    }
}
