package io.pagedkv.testkit;

import java.util.function.Supplier;

/**
 * Entry point of property-based tests: {@code Property.forAll(gens...).tries(n).seed(s).check(...)}
 * generates inputs from the generators, runs the check on each, and on the first failure shrinks
 * the input and throws a {@link PropertyFailure} naming the shrunk input, the original input, the
 * seed and the {@code -Dpagedkv.seed=...} flag that replays it.
 *
 * <pre>{@code
 * @Test
 * void encodeThenDecodeStaysWithinTheErrorBound() {
 *     Property.forAll(Gens.floatArrays(Gens.finiteFloats(-100f, 100f), 32, 32))
 *             .check(values -> assertWithinBound(values, roundTrip(values)));
 * }
 * }</pre>
 * Tries, seed and time cap come from {@link Config} unless set on the property. Thread-safe: a
 * check runs on the calling thread and shares no state.
 */
public final class Property {
    private Property() {
    }

    /** A property over values of one generator. */
    public static <A> ForAll1<A> forAll(Gen<A> a) {
        return new ForAll1<>(nonNull(a, "a"));
    }

    /** A property over values of two generators, drawn independently. */
    public static <A, B> ForAll2<A, B> forAll(Gen<A> a, Gen<B> b) {
        return new ForAll2<>(nonNull(a, "a"), nonNull(b, "b"));
    }

    /** A property over values of three generators, drawn independently. */
    public static <A, B, C> ForAll3<A, B, C> forAll(Gen<A> a, Gen<B> b, Gen<C> c) {
        return new ForAll3<>(nonNull(a, "a"), nonNull(b, "b"), nonNull(c, "c"));
    }

    /** Inside a check: discards the current case unless {@code condition} holds (it is not a failure). */
    public static void assume(boolean condition) {
        if (!condition) {
            throw new Discard("assumption failed");
        }
    }

    private static <T> Gen<T> nonNull(Gen<T> gen, String name) {
        if (gen == null) {
            throw new IllegalArgumentException(name + ": null (expected: a generator)");
        }
        return gen;
    }

    /**
     * Runs {@code check} on one generated value and reports the outcome; the value is rendered
     * only when the check fails (after it ran, so a check that mutates its input shows the result).
     */
    static Outcome runCase(Object value, Supplier<String> shown, ThrowingRunnable check) {
        try {
            check.run();
            return new Outcome(value, "", null);
        } catch (Discard | VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            return new Outcome(value, shown.get(), t);
        }
    }

    /** A check body that may throw anything. */
    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Throwable;
    }
}
