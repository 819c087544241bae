package io.pagedkv.testkit;

/**
 * The assertion error a failing property or state machine throws: it carries the shrunk input,
 * the original input, the seed and the flag that replays the run, and the shrunk case's own
 * failure as its cause. Tests of the kit assert on {@link #shrunk()} to prove shrinking quality.
 *
 * <p>For {@code forAll(a)} the inputs are the value itself; for {@code forAll(a, b[, c])} a
 * {@code List} of the arguments; for a state machine the {@code List<String>} of numbered steps;
 * for the parallel mode a list of step lists (prefix, then each branch). Immutable once thrown.
 */
public final class PropertyFailure extends AssertionError {
    private static final long serialVersionUID = 1L;

    private final long seed;
    private final transient Object shrunk;
    private final transient Object original;
    private final int shrinkSteps;

    PropertyFailure(String message, long seed, Object shrunk, Object original, int shrinkSteps, Throwable cause) {
        super(message, cause);
        this.seed = seed;
        this.shrunk = shrunk;
        this.original = original;
        this.shrinkSteps = shrinkSteps;
    }

    /** The seed of the failing run. */
    public long seed() {
        return seed;
    }

    /** The smallest failing input found. */
    public Object shrunk() {
        return shrunk;
    }

    /** The input that failed first, before shrinking. */
    public Object original() {
        return original;
    }

    /** How many accepted shrink steps led from {@link #original()} to {@link #shrunk()}. */
    public int shrinkSteps() {
        return shrinkSteps;
    }

    /** The JVM flag that replays this run: {@code -Dpagedkv.seed=<seed>}. */
    public String replayFlag() {
        return "-D" + Config.SEED_PROP + "=" + seed;
    }
}
