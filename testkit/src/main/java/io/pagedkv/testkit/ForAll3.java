package io.pagedkv.testkit;

import java.util.function.Supplier;

/**
 * A property over three values ({@link Property#forAll}): optional settings, then {@link #check}.
 * The reported inputs are a {@code List} of the arguments. Not thread-safe while being
 * configured; {@code check} may be called repeatedly.
 */
public final class ForAll3<A, B, C> {
    private final Gen<A> a;
    private final Gen<B> b;
    private final Gen<C> c;
    private Integer tries;
    private Long seed;
    private Double maxSeconds;

    ForAll3(Gen<A> a, Gen<B> b, Gen<C> c) {
        this.a = a;
        this.b = b;
        this.c = c;
    }

    /** The body of a property over three values; throw (e.g. a failed assertion) to fail. */
    @FunctionalInterface
    public interface Body<A, B, C> {
        /** Checks the property for one case. */
        void check(A a, B b, C c) throws Throwable;
    }

    /** Cases to run (scaled up by the soak, see {@link Config#TRIES_PROP}). */
    public ForAll3<A, B, C> tries(int n) {
        this.tries = Config.checkTries(n);
        return this;
    }

    /** Fixes the seed (it wins over {@code -Dpagedkv.seed}; a failure prints it). */
    public ForAll3<A, B, C> seed(long s) {
        this.seed = s;
        return this;
    }

    /** Caps the time spent on tries; the property passes on the cases run when it runs out. */
    public ForAll3<A, B, C> maxSeconds(double seconds) {
        this.maxSeconds = Config.checkSeconds(seconds);
        return this;
    }

    /** Runs the property, throwing a {@link PropertyFailure} with the shrunk case if it fails. */
    public void check(Body<A, B, C> body) {
        Runner.run("Property", in -> {
            A va = a.generate(in);
            B vb = b.generate(in);
            C vc = c.generate(in);
            Supplier<String> shown = () -> "#1 = " + Show.value(va) + "\n#2 = " + Show.value(vb)
                    + "\n#3 = " + Show.value(vc);
            return Property.runCase(java.util.Arrays.asList(va, vb, vc), shown, () -> body.check(va, vb, vc));
        }, Config.plan(tries, seed, maxSeconds));
    }
}
