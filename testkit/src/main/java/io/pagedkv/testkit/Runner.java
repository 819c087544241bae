package io.pagedkv.testkit;

/**
 * Runs an {@link Experiment} for a {@link Config.Plan}: case {@code i} draws from a random source
 * seeded by a fixed mix of the plan's seed and {@code i}, so a seed replays the whole run. The
 * first failing case is shrunk and thrown as a {@link PropertyFailure}. Stops early, passing,
 * when the plan's time cap runs out. Stateless.
 */
final class Runner {
    /** A check whose cases are all discarded this often (per try) fails: its filter is too strict. */
    private static final int DISCARDS_PER_TRY = 10;

    private Runner() {
    }

    /** What a passing run did. */
    record Stats(int passed, int discarded, boolean timedOut) {
    }

    static Stats run(String what, Experiment experiment, Config.Plan plan) {
        long start = System.nanoTime();
        long capNanos = (long) (plan.maxSeconds() * 1e9);
        int passed = 0;
        int discarded = 0;
        int maxDiscards = Math.max(100, plan.tries() * DISCARDS_PER_TRY);
        for (int i = 0; passed < plan.tries(); i++) {
            if (System.nanoTime() - start > capNanos) {
                System.err.println("[pagedkv testkit] " + what + " stopped after " + passed + " of " + plan.tries()
                        + " cases: time cap of " + plan.maxSeconds() + " s reached (" + Config.MAX_SECONDS_PROP
                        + "; seed " + plan.seed() + ")");
                return new Stats(passed, discarded, true);
            }
            Choices in = Choices.random(caseSeed(plan.seed(), i));
            Outcome outcome;
            try {
                outcome = experiment.run(in);
            } catch (Discard d) {
                if (++discarded > maxDiscards) {
                    throw new AssertionError(what + ": " + discarded + " cases discarded for " + passed
                            + " passed (expected: at most " + maxDiscards + "; last: " + d.getMessage()
                            + "); loosen the filter or assumption. Seed " + plan.seed());
                }
                continue;
            } catch (RuntimeException e) {
                throw new IllegalStateException(what + ": generating case " + (i + 1) + " threw; replay with "
                        + "-D" + Config.SEED_PROP + "=" + plan.seed(), e);
            }
            if (outcome.failed()) {
                throw shrinkAndReport(what, experiment, plan, in, outcome, passed);
            }
            passed++;
        }
        return new Stats(passed, discarded, false);
    }

    private static PropertyFailure shrinkAndReport(String what, Experiment experiment, Config.Plan plan,
            Choices in, Outcome original, int passed) {
        Shrinker shrinker = new Shrinker(experiment, in, original, plan.shrinkSeconds());
        Outcome shrunk = shrinker.shrink();
        String message = what + " failed after " + passed + " passing cases (seed " + plan.seed() + ")\n"
                + (failsAgain(experiment, shrinker.best()) ? "" : "FLAKY: the shrunk case passed when run again "
                        + "(timing, shared state or randomness outside the kit)\n")
                + "Shrunk (" + shrinker.improvements() + " shrinks, " + shrinker.attempts() + " attempts):\n"
                + Show.indent(shrunk.shown()) + "\n"
                + "Original:\n" + Show.indent(original.shown()) + "\n"
                + "Failure:\n" + Show.indent(String.valueOf(shrunk.failure())) + "\n"
                + "Replay: -D" + Config.SEED_PROP + "=" + plan.seed();
        return new PropertyFailure(message, plan.seed(), shrunk.value(), original.value(),
                shrinker.improvements(), shrunk.failure());
    }

    /** Whether the case of {@code choices} fails when run once more. */
    private static boolean failsAgain(Experiment experiment, long[] choices) {
        try {
            return experiment.run(Choices.replay(choices)).failed();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The seed of case {@code index} of a run seeded {@code seed} (SplitMix64 finaliser). */
    static long caseSeed(long seed, int index) {
        long z = seed + (index + 1L) * 0x9E37_79B9_7F4A_7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }
}
