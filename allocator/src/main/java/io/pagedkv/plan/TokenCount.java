package io.pagedkv.plan;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a token count as people write context lengths: {@code 131072}, {@code 128k}, {@code 1M}.
 *
 * <p>{@code k} means 1024 and {@code M} 1024 * 1024 tokens, the way model context lengths are named
 * ("128k" is Llama-3.1's 131,072 positions); write the plain number for a decimal count. Fractions
 * must come out whole ({@code 1.5k} = 1536). Stateless and thread-safe.
 */
public final class TokenCount {

    /** Tokens in a {@code k}. */
    public static final long K = 1024;
    /** Tokens in an {@code M}. */
    public static final long M = 1024 * 1024;
    /** Largest count accepted (2^40 tokens). */
    public static final long MAX = 1L << 40;

    private static final Pattern SYNTAX = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([A-Za-z]*)");

    private TokenCount() {
    }

    /**
     * The number of tokens {@code text} names.
     *
     * @throws IllegalArgumentException naming the input and what is accepted
     */
    public static long parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("tokens: null (expected: e.g. 131072 or 128k)");
        }
        Matcher m = SYNTAX.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("tokens: '" + text
                    + "' (expected: a non-negative count, optionally with k (x1024) or M (x1048576), e.g. 128k)");
        }
        long unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "" -> 1;
            case "k" -> K;
            case "m" -> M;
            default -> throw new IllegalArgumentException("tokens: '" + text + "' has the unknown suffix '" + m.group(2)
                    + "' (expected: none, k or M)");
        };
        BigDecimal exact = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
        if (exact.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException("tokens: '" + text + "' is " + exact.toPlainString()
                    + " tokens (expected: a whole number)");
        }
        if (exact.compareTo(BigDecimal.valueOf(MAX)) > 0) {
            throw new IllegalArgumentException("tokens: '" + text + "' (expected: <= " + MAX + ")");
        }
        return exact.longValueExact();
    }
}
