package io.pagedkv.testkit;

import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A generator: a deterministic function from a {@link Choices} sequence to a value.
 *
 * <p>Invariant: the same choices give the same value, and lower choices give simpler values
 * (choice 0 is the simplest). Every combinator here keeps that, so anything built from
 * {@link Gens} shrinks automatically. Generators are stateless and may be shared across threads;
 * the {@link Choices} they draw from may not.
 *
 * @param <T> the generated type
 */
@FunctionalInterface
public interface Gen<T> {
    /** How many values in a row {@link #filter} may reject before the case is discarded. */
    int FILTER_ATTEMPTS = 100;

    /** Draws one value from {@code in}. */
    T generate(Choices in);

    /** A generator of {@code f} applied to this generator's values. */
    default <R> Gen<R> map(Function<? super T, ? extends R> f) {
        return in -> f.apply(generate(in));
    }

    /**
     * A generator of this generator's values that satisfy {@code p}; the case is discarded after
     * {@value #FILTER_ATTEMPTS} rejections in a row.
     */
    default Gen<T> filter(Predicate<? super T> p) {
        return in -> {
            for (int attempt = 0; attempt < FILTER_ATTEMPTS; attempt++) {
                int span = in.startSpan();
                T value = generate(in);
                in.endSpan(span);
                if (p.test(value)) {
                    return value;
                }
            }
            throw new Discard("filter rejected " + FILTER_ATTEMPTS + " values in a row");
        };
    }

    /** A generator that draws a value, then draws from the generator {@code f} makes of it. */
    default <R> Gen<R> flatMap(Function<? super T, ? extends Gen<? extends R>> f) {
        return in -> f.apply(generate(in)).generate(in);
    }
}
