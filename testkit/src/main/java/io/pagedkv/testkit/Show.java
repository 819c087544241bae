package io.pagedkv.testkit;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;

/**
 * Renders generated values for failure messages: arrays by content (also inside lists and maps),
 * strings quoted, floats with an {@code f} suffix and NaNs with their bit pattern.
 */
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
            case Collection<?> c -> joined(c);
            case Map<?, ?> m -> {
                StringBuilder sb = new StringBuilder("{");
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    sb.append(sb.length() > 1 ? ", " : "").append(value(e.getKey()))
                            .append('=').append(value(e.getValue()));
                }
                yield sb.append('}').toString();
            }
            case String s -> '"' + s + '"';
            case Float f -> f.isNaN() ? "NaN(0x" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")" : f + "f";
            default -> v.toString();
        };
    }

    private static String joined(Collection<?> c) {
        StringBuilder sb = new StringBuilder("[");
        for (Object o : c) {
            sb.append(sb.length() > 1 ? ", " : "").append(value(o));
        }
        return sb.append(']').toString();
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
