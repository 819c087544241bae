package io.pagedkv.testkit;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The process-wide switches of the kit, read from system properties when a check starts.
 *
 * <ul>
 *   <li>{@value #TRIES_PROP} (default {@value #TRIES_DEFAULT}): cases per property that sets no
 *       {@code .tries(n)}. A property's own {@code .tries(n)} is scaled up (never down) by
 *       {@code pagedkv.tries / 100}, so the soak profile ({@code -Psoak}, 5000) runs every property
 *       50 times longer.</li>
 *   <li>{@value #SEED_PROP}: the seed of every check that sets no {@code .seed(s)} (a seed in code
 *       wins, and is the one its failure prints). Unset: a fresh random seed per check, printed on
 *       failure.</li>
 *   <li>{@value #MAX_SECONDS_PROP} (default {@value #MAX_SECONDS_DEFAULT}): time cap on the tries of
 *       one property; when it runs out the property stops early and passes on the cases run.</li>
 *   <li>{@value #SHRINK_SECONDS_PROP} (default {@value #SHRINK_SECONDS_DEFAULT}): time cap on shrinking
 *       one failure; the smallest failure found so far is reported.</li>
 * </ul>
 * Stateless: the properties are read afresh by each check, on its own thread.
 */
public final class Config {
    /** System property: number of cases per property at scale 100. */
    public static final String TRIES_PROP = "pagedkv.tries";
    /** Default of {@link #TRIES_PROP}. */
    public static final int TRIES_DEFAULT = 100;
    /** System property: the seed to run (and replay) with. */
    public static final String SEED_PROP = "pagedkv.seed";
    /** System property: seconds one property may spend on its tries. */
    public static final String MAX_SECONDS_PROP = "pagedkv.maxSeconds";
    /** Default of {@link #MAX_SECONDS_PROP}. */
    public static final double MAX_SECONDS_DEFAULT = 60;
    /** System property: seconds one failure may spend shrinking. */
    public static final String SHRINK_SECONDS_PROP = "pagedkv.shrinkSeconds";
    /** Default of {@link #SHRINK_SECONDS_PROP}. */
    public static final double SHRINK_SECONDS_DEFAULT = 30;

    private Config() {
    }

    /** The plan for one check, from the property's own settings (null = unset) and the system properties. */
    static Plan plan(Integer tries, Long seed, Double maxSeconds) {
        int scale = intProp(TRIES_PROP, TRIES_DEFAULT);
        int effectiveTries = tries == null ? scale
                : (int) Math.min(Integer.MAX_VALUE, Math.max(tries, (long) tries * scale / TRIES_DEFAULT));
        String seedText = System.getProperty(SEED_PROP);
        long effectiveSeed;
        if (seed != null) {
            effectiveSeed = seed;
        } else if (seedText != null && !seedText.isBlank()) {
            try {
                effectiveSeed = Long.parseLong(seedText.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(SEED_PROP + ": " + seedText + " (expected: a long)", e);
            }
        } else {
            effectiveSeed = ThreadLocalRandom.current().nextLong();
        }
        double cap = maxSeconds != null ? maxSeconds : secondsProp(MAX_SECONDS_PROP, MAX_SECONDS_DEFAULT);
        return new Plan(effectiveTries, effectiveSeed, cap, secondsProp(SHRINK_SECONDS_PROP, SHRINK_SECONDS_DEFAULT));
    }

    static int checkTries(int tries) {
        if (tries < 1) {
            throw new IllegalArgumentException("tries: " + tries + " (expected: >= 1)");
        }
        return tries;
    }

    static double checkSeconds(double seconds) {
        if (!(seconds > 0)) {
            throw new IllegalArgumentException("maxSeconds: " + seconds + " (expected: > 0)");
        }
        return seconds;
    }

    private static int intProp(String name, int fallback) {
        String text = System.getProperty(name);
        if (text == null || text.isBlank()) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(text.trim());
            if (value >= 1) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below with the limit
        }
        throw new IllegalArgumentException(name + ": " + text + " (expected: an int >= 1)");
    }

    private static double secondsProp(String name, double fallback) {
        String text = System.getProperty(name);
        if (text == null || text.isBlank()) {
            return fallback;
        }
        try {
            double value = Double.parseDouble(text.trim());
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below with the limit
        }
        throw new IllegalArgumentException(name + ": " + text + " (expected: seconds > 0)");
    }

    /** Resolved settings of one check. */
    record Plan(int tries, long seed, double maxSeconds, double shrinkSeconds) {
    }
}
