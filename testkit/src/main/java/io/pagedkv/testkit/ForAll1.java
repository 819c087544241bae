package io.pagedkv.testkit;

/**
 * A property over a value ({@link Property#forAll}): optional settings, then {@link #check}.
 * Not thread-safe while being configured; {@code check} may be called repeatedly.
 */
public final class ForAll1<A> {
    private final Gen<A> a;
    private Integer tries;
    private Long seed;
    private Double maxSeconds;

    ForAll1(Gen<A> a) {
        this.a = a;
    }

    /** The body of a property over a value; throw (e.g. a failed assertion) to fail. */
    @FunctionalInterface
    public interface Body<A> {
        /** Checks the property for one case. */
        void check(A a) throws Throwable;
    }

    /** Cases to run (scaled up by the soak, see {@link Config#TRIES_PROP}). */
    public ForAll1<A> tries(int n) {
        this.tries = Config.checkTries(n);
        return this;
    }

    /** Fixes the seed (it wins over {@code -Dpagedkv.seed}; a failure prints it). */
    public ForAll1<A> seed(long s) {
        this.seed = s;
        return this;
    }

    /** Caps the time spent on tries; the property passes on the cases run when it runs out. */
    public ForAll1<A> maxSeconds(double seconds) {
        this.maxSeconds = Config.checkSeconds(seconds);
        return this;
    }

    /** Runs the property, throwing a {@link PropertyFailure} with the shrunk case if it fails. */
    public void check(Body<A> body) {
        Runner.run("Property", in -> {
            A va = a.generate(in);
            return Property.runCase(va, () -> "#1 = " + Show.value(va), () -> body.check(va));
        }, Config.plan(tries, seed, maxSeconds));
    }
}
