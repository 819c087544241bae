package io.pagedkv.testkit;

import java.util.function.Supplier;

/**
 * A property over two values ({@link Property#forAll}): optional settings, then {@link #check}.
 * The reported inputs are a {@code List} of the arguments. Not thread-safe while being
 * configured; {@code check} may be called repeatedly.
 */
public final class ForAll2<A, B> {
    private final Gen<A> a;
    private final Gen<B> b;
    private Integer tries;
    private Long seed;
    private Double maxSeconds;

    ForAll2(Gen<A> a, Gen<B> b) {
        this.a = a;
        this.b = b;
    }

    /** The body of a property over two values; throw (e.g. a failed assertion) to fail. */
    @FunctionalInterface
    public interface Body<A, B> {
        /** Checks the property for one case. */
        void check(A a, B b) throws Throwable;
    }

    /** Cases to run (scaled up by the soak, see {@link Config#TRIES_PROP}). */
    public ForAll2<A, B> tries(int n) {
        this.tries = Config.checkTries(n);
        return this;
    }

    /** Fixes the seed (it wins over {@code -Dpagedkv.seed}; a failure prints it). */
    public ForAll2<A, B> seed(long s) {
        this.seed = s;
        return this;
    }

    /** Caps the time spent on tries; the property passes on the cases run when it runs out. */
    public ForAll2<A, B> maxSeconds(double seconds) {
        this.maxSeconds = Config.checkSeconds(seconds);
        return this;
    }

    /** Runs the property, throwing a {@link PropertyFailure} with the shrunk case if it fails. */
    public void check(Body<A, B> body) {
        Runner.run("Property", in -> {
            A va = a.generate(in);
            B vb = b.generate(in);
            Supplier<String> shown = () -> "#1 = " + Show.value(va) + "\n#2 = " + Show.value(vb);
            return Property.runCase(java.util.Arrays.asList(va, vb), shown, () -> body.check(va, vb));
        }, Config.plan(tries, seed, maxSeconds));
    }
}
