package io.pagedkv.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * Factories for the standard generators. Every one draws from {@link Choices} with choice 0 as
 * the simplest value, so all of them and everything composed from them shrink.
 *
 * <p>Integers are biased toward 0, 1, -1, the bounds and powers of two and shrink toward 0 (or the
 * bound closer to 0); floats include NaN, both infinities, -0.0, subnormals and the fp16/bf16/fp8
 * boundaries ({@link FloatSpecials}); lists shrink by dropping elements and simplifying the rest.
 * Stateless and thread-safe.
 */
public final class Gens {
    /** Longest expected list tail beyond the minimum length (a geometric distribution's mean). */
    private static final int MAX_MEAN_EXTRA_LENGTH = 24;

    private Gens() {
    }

    /** A function of three arguments, for {@link #zip(Gen, Gen, Gen, Fn3)}. */
    @FunctionalInterface
    public interface Fn3<A, B, C, R> {
        /** Applies the function. */
        R apply(A a, B b, C c);
    }

    /** A function of four arguments, for {@link #zip(Gen, Gen, Gen, Gen, Fn4)}. */
    @FunctionalInterface
    public interface Fn4<A, B, C, D, R> {
        /** Applies the function. */
        R apply(A a, B b, C c, D d);
    }

    /** Ints in {@code [lo, hi]}, biased toward 0, 1, -1, the bounds and powers of two. */
    public static Gen<Integer> ints(int lo, int hi) {
        IntegerDraws.checkRange(lo, hi);
        return in -> (int) IntegerDraws.draw(in, lo, hi);
    }

    /** Longs in {@code [lo, hi]}, biased toward 0, 1, -1, the bounds and powers of two. */
    public static Gen<Long> longs(long lo, long hi) {
        IntegerDraws.checkRange(lo, hi);
        return in -> IntegerDraws.draw(in, lo, hi);
    }

    /** Booleans; shrinks to {@code false}. */
    public static Gen<Boolean> booleans() {
        return Choices::drawBoolean;
    }

    /** Any float: simple values, raw bit patterns (NaNs, subnormals) and {@link FloatSpecials#ALL}. */
    public static Gen<Float> floats() {
        return FloatDraws::any;
    }

    /** Finite floats in {@code [lo, hi]}: linear, uniform over representable values, and the specials in range. */
    public static Gen<Float> finiteFloats(float lo, float hi) {
        return FloatDraws.finite(lo, hi);
    }

    /** Float arrays of length {@code [minLen, maxLen]} with elements from {@code elements}. */
    public static Gen<float[]> floatArrays(Gen<Float> elements, int minLen, int maxLen) {
        return lists(elements, minLen, maxLen).map(list -> {
            float[] out = new float[list.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = list.get(i);
            }
            return out;
        });
    }

    /** One of {@code values}, shrinking toward the first. */
    @SafeVarargs
    public static <T> Gen<T> oneOf(T... values) {
        List<T> list = new ArrayList<>(values.length);
        for (T v : values) {
            list.add(v);
        }
        return elements(list);
    }

    /** One element of {@code values} (copied), shrinking toward the first. */
    public static <T> Gen<T> elements(List<? extends T> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("values: 0 elements (expected: at least 1)");
        }
        List<? extends T> copy = new ArrayList<>(values);
        return in -> copy.get(in.drawInt(copy.size() - 1));
    }

    /** A value from one of {@code gens}, chosen uniformly, shrinking toward the first. */
    @SafeVarargs
    public static <T> Gen<T> choose(Gen<? extends T>... gens) {
        if (gens.length == 0) {
            throw new IllegalArgumentException("gens: 0 generators (expected: at least 1)");
        }
        List<Gen<? extends T>> copy = new ArrayList<>(gens.length);
        for (Gen<? extends T> g : gens) {
            copy.add(Objects.requireNonNull(g, "gens"));
        }
        return in -> copy.get(in.drawInt(copy.size() - 1)).generate(in);
    }

    /** A value from {@code a} or {@code b}, chosen in proportion to the weights, shrinking toward {@code a}. */
    public static <T> Gen<T> frequency(int weightA, Gen<? extends T> a, int weightB, Gen<? extends T> b) {
        return weighted(new int[] {weightA, weightB}, List.of(a, b));
    }

    /** A value from {@code a}, {@code b} or {@code c}, in proportion to the weights, shrinking toward {@code a}. */
    public static <T> Gen<T> frequency(int weightA, Gen<? extends T> a, int weightB, Gen<? extends T> b,
            int weightC, Gen<? extends T> c) {
        return weighted(new int[] {weightA, weightB, weightC}, List.of(a, b, c));
    }

    private static <T> Gen<T> weighted(int[] weights, List<Gen<? extends T>> gens) {
        long total = 0;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] < 0) {
                throw new IllegalArgumentException("weight " + (i + 1) + ": " + weights[i] + " (expected: >= 0)");
            }
            total += weights[i];
        }
        if (total == 0) {
            throw new IllegalArgumentException("weights: all 0 (expected: at least one > 0)");
        }
        long last = total - 1;
        int[] copy = weights.clone();
        return in -> {
            long ticket = in.drawUniform(last);
            for (int i = 0; i < copy.length; i++) {
                if (ticket < copy[i]) {
                    return gens.get(i).generate(in);
                }
                ticket -= copy[i];
            }
            throw new AssertionError("unreachable: ticket beyond total weight " + (last + 1));
        };
    }

    /** Permutations of {@code values} (copied), shrinking toward the given order. */
    public static <T> Gen<List<T>> shuffled(List<? extends T> values) {
        List<? extends T> copy = new ArrayList<>(values);
        return in -> {
            List<T> remaining = new ArrayList<>(copy);
            List<T> out = new ArrayList<>(copy.size());
            while (!remaining.isEmpty()) {
                out.add(remaining.remove(in.drawInt(remaining.size() - 1)));
            }
            return Collections.unmodifiableList(out);
        };
    }

    /** Int arrays of length {@code [minLen, maxLen]} with elements from {@code elements}. */
    public static Gen<int[]> intArrays(Gen<Integer> elements, int minLen, int maxLen) {
        return lists(elements, minLen, maxLen).map(list -> {
            int[] out = new int[list.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = list.get(i);
            }
            return out;
        });
    }

    /** Always {@code value}; draws nothing. */
    public static <T> Gen<T> constant(T value) {
        return in -> value;
    }

    /**
     * Lists of {@code [min, max]} elements. After the first {@code min} elements each further one
     * is preceded by a "more?" choice (0 = stop), so lengths are geometric and deleting an
     * element's span, or zeroing its "more?" choice, shortens the list.
     */
    public static <T> Gen<List<T>> lists(Gen<T> elements, int min, int max) {
        if (min < 0 || min > max) {
            throw new IllegalArgumentException(
                    "length: [" + min + ", " + max + "] (expected: 0 <= min <= max)");
        }
        Objects.requireNonNull(elements, "elements");
        long more = Math.max(1, Math.min(MAX_MEAN_EXTRA_LENGTH, (max - min + 1) / 2));
        return in -> {
            List<T> out = new ArrayList<>();
            while (out.size() < max) {
                int span = in.startSpan();
                if (out.size() >= min && in.drawUniform(more) == 0) {
                    in.endSpan(span);
                    break;
                }
                out.add(elements.generate(in));
                in.endSpan(span);
            }
            return Collections.unmodifiableList(out);
        };
    }

    /** Values built from one draw of each of two generators, e.g. into a record. */
    public static <A, B, R> Gen<R> zip(Gen<A> a, Gen<B> b, BiFunction<? super A, ? super B, ? extends R> f) {
        return in -> {
            A va = a.generate(in);
            return f.apply(va, b.generate(in));
        };
    }

    /** Values built from one draw of each of three generators, e.g. into a record. */
    public static <A, B, C, R> Gen<R> zip(Gen<A> a, Gen<B> b, Gen<C> c,
            Fn3<? super A, ? super B, ? super C, ? extends R> f) {
        return in -> {
            A va = a.generate(in);
            B vb = b.generate(in);
            return f.apply(va, vb, c.generate(in));
        };
    }

    /** Values built from one draw of each of four generators, e.g. into a record. */
    public static <A, B, C, D, R> Gen<R> zip(Gen<A> a, Gen<B> b, Gen<C> c, Gen<D> d,
            Fn4<? super A, ? super B, ? super C, ? super D, ? extends R> f) {
        return in -> {
            A va = a.generate(in);
            B vb = b.generate(in);
            C vc = c.generate(in);
            return f.apply(va, vb, vc, d.generate(in));
        };
    }
}
