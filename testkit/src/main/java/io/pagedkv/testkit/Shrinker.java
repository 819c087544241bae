package io.pagedkv.testkit;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * Shrinks a failing case by editing its recorded choice sequence and re-running it.
 *
 * <p>A candidate is accepted when it still fails with the same kind of exception and the choices
 * it actually drew are smaller in shortlex order (shorter, or equally long and lexicographically
 * smaller). That order is well-founded, so shrinking always ends. Passes, repeated until none
 * makes progress or the budget runs out:
 * <ol>
 *   <li>delete each recorded span (a list element, a state-machine step), largest first;</li>
 *   <li>zero each span (its simplest content);</li>
 *   <li>delete runs of 8, 4, 2 and 1 choices;</li>
 *   <li>swap adjacent equal-length spans that are out of order (sorts list elements);</li>
 *   <li>lower each choice: to 0, else binary search for the smallest value that still fails;</li>
 *   <li>lower together all choices that hold the same value under the same bound (e.g. the
 *       signs of several list elements);</li>
 *   <li>move value from a choice to a later one with the same bound (a sum kept, an earlier
 *       part made simpler), so the earlier part can then be deleted or zeroed.</li>
 * </ol>
 * Because every generator maps choice 0 to its simplest value, these edits shrink any value built
 * from {@link Gens} with no per-type shrinker. Not thread-safe; one instance per failure.
 */
final class Shrinker {
    private static final int MAX_ATTEMPTS = 50_000;
    private static final int PASSES = 7;
    /** How far after a group of equal choices the shrinker looks for one to raise as it lowers the group. */
    private static final int RAISE_WINDOW = 16;

    private final Experiment experiment;
    private final Class<?> failureKind;
    private final long deadlineNanos;
    private long[] best;
    private int[] bestSpans;
    private long[] bestBounds;
    private Outcome bestOutcome;
    private int attempts;
    private int improvements;

    Shrinker(Experiment experiment, Choices failingChoices, Outcome failing, double seconds) {
        this.experiment = experiment;
        this.failureKind = failing.failure().getClass();
        this.deadlineNanos = System.nanoTime() + (long) (seconds * 1e9);
        this.best = failingChoices.recorded();
        this.bestSpans = failingChoices.spans();
        this.bestBounds = failingChoices.bounds();
        this.bestOutcome = failing;
    }

    Outcome shrink() {
        // A pass is deterministic in the best case: one that found nothing need not run again until
        // another pass has changed the best case. staleAt[p] is the improvement count it failed at.
        int[] staleAt = new int[PASSES];
        Arrays.fill(staleAt, -1);
        boolean progress = true;
        while (progress && !exhausted()) {
            progress = false;
            for (int p = 0; p < PASSES && !exhausted(); p++) {
                if (staleAt[p] == improvements) {
                    continue;
                }
                if (runPass(p)) {
                    progress = true;
                } else {
                    staleAt[p] = improvements;
                }
            }
        }
        return bestOutcome;
    }

    private boolean runPass(int pass) {
        return switch (pass) {
            case 0 -> deleteSpans();
            case 1 -> zeroSpans();
            case 2 -> deleteRuns();
            case 3 -> sortSpans();
            case 4 -> lowerChoices();
            case 5 -> lowerDuplicates();
            default -> redistribute();
        };
    }

    long[] best() {
        return best.clone();
    }

    int attempts() {
        return attempts;
    }

    int improvements() {
        return improvements;
    }

    private boolean exhausted() {
        return attempts >= MAX_ATTEMPTS || System.nanoTime() - deadlineNanos > 0;
    }

    private boolean deleteSpans() {
        boolean any = false;
        long[] spans = spansLargestFirst();
        for (int k = 0; k < spans.length && !exhausted(); k++) {
            int start = (int) (spans[k] >>> 32);
            int end = (int) spans[k];
            if (end <= best.length && tryCandidate(without(best, start, end))) {
                any = true;
                spans = spansLargestFirst(); // the spans moved: carry on from the same rank
                k--;
            }
        }
        return any;
    }

    /** The distinct spans of the best case, as (start << 32 | end), longest first, then by start. */
    private long[] spansLargestFirst() {
        long[] keys = new long[bestSpans.length / 2];
        for (int i = 0; i < keys.length; i++) {
            int start = bestSpans[2 * i];
            int length = bestSpans[2 * i + 1] - start;
            keys[i] = (long) (Integer.MAX_VALUE - length) << 32 | start;
        }
        Arrays.sort(keys);
        long[] out = new long[keys.length];
        int n = 0;
        for (int i = 0; i < keys.length; i++) {
            if (i > 0 && keys[i] == keys[i - 1]) {
                continue;
            }
            int start = (int) keys[i];
            int length = Integer.MAX_VALUE - (int) (keys[i] >>> 32);
            out[n++] = (long) start << 32 | (start + length);
        }
        return Arrays.copyOf(out, n);
    }

    private boolean deleteRuns() {
        boolean any = false;
        for (int k = 8; k >= 1 && !exhausted(); k /= 2) {
            for (int i = best.length - k; i >= 0 && !exhausted(); i--) {
                if (i + k <= best.length) {
                    any |= tryCandidate(without(best, i, i + k));
                }
            }
        }
        return any;
    }

    private boolean zeroSpans() {
        boolean any = false;
        for (int i = 0; i + 1 < bestSpans.length && !exhausted(); i += 2) {
            int start = bestSpans[i];
            int end = Math.min(bestSpans[i + 1], best.length);
            boolean allZero = true;
            for (int j = start; j < end; j++) {
                allZero &= best[j] == 0;
            }
            if (!allZero) {
                long[] c = best.clone();
                Arrays.fill(c, start, end, 0);
                any |= tryCandidate(c);
            }
        }
        return any;
    }

    private boolean sortSpans() {
        boolean any = false;
        for (int i = 0; i + 3 < bestSpans.length && !exhausted(); i += 2) {
            for (int j = i + 2; j + 1 < bestSpans.length; j += 2) {
                int aStart = bestSpans[i];
                int aEnd = bestSpans[i + 1];
                int bStart = bestSpans[j];
                int bEnd = bestSpans[j + 1];
                if (aEnd != bStart || aEnd - aStart != bEnd - bStart || bEnd > best.length) {
                    continue;
                }
                if (Arrays.compare(best, aStart, aEnd, best, bStart, bEnd) > 0) {
                    long[] c = best.clone();
                    System.arraycopy(best, bStart, c, aStart, bEnd - bStart);
                    System.arraycopy(best, aStart, c, aStart + (bEnd - bStart), aEnd - aStart);
                    any |= tryCandidate(c);
                }
                break;
            }
        }
        return any;
    }

    private boolean lowerChoices() {
        boolean any = false;
        for (int i = 0; i < best.length && !exhausted(); i++) {
            long value = best[i];
            if (value == 0) {
                continue;
            }
            if (tryCandidate(with(best, i, 0))) {
                any = true;
                continue;
            }
            // Smallest failing value in (lo, hi]: lo is known to pass (or be invalid), hi to fail.
            long lo = 0;
            long hi = value;
            while (hi - lo > 1 && !exhausted() && i < best.length && best[i] == hi) {
                long mid = lo + (hi - lo) / 2;
                if (tryCandidate(with(best, i, mid))) {
                    any = true;
                    if (i >= best.length || best[i] != mid) {
                        break; // the accepted case drew differently here; move on
                    }
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
        }
        return any;
    }

    private boolean lowerDuplicates() {
        boolean any = false;
        Set<Group> seen = new HashSet<>();
        for (int i = 0; i < best.length && !exhausted(); i++) {
            long value = best[i];
            long bound = bestBounds[i];
            if (value == 0 || !seen.add(new Group(value, bound))) {
                continue;
            }
            int count = 0;
            int last = i;
            for (int j = i; j < best.length; j++) {
                if (best[j] == value && bestBounds[j] == bound) {
                    count++;
                    last = j;
                }
            }
            if (count < 2) {
                continue;
            }
            boolean done = false;
            for (long target : new long[] {0, value / 2, value - 1}) {
                if (target < value && tryCandidate(lowered(i, value, bound, target, -1))) {
                    done = true;
                    break;
                }
            }
            any |= done;
            if (done || exhausted() || i >= best.length || best[i] != value) {
                continue;
            }
            // Lowering the group alone passed: lowering it while raising a choice just after it by
            // one may still fail (e.g. six -1s then 0 becoming six 0s then 1).
            for (int k = last + 1; k < best.length && k <= last + RAISE_WINDOW && !exhausted(); k++) {
                if (best[k] < bestBounds[k] && tryCandidate(lowered(i, value, bound, 0, k))) {
                    any = true;
                    break;
                }
            }
        }
        return any;
    }

    /** Choices that hold the same value under the same bound. */
    private record Group(long value, long bound) {
    }

    /**
     * The best case with every choice equal to {@code value} under {@code bound}, from {@code i} on,
     * set to {@code target}, and choice {@code raise} (if >= 0) raised by one.
     */
    private long[] lowered(int i, long value, long bound, long target, int raise) {
        long[] c = best.clone();
        for (int j = i; j < c.length; j++) {
            if (c[j] == value && bestBounds[j] == bound) {
                c[j] = target;
            }
        }
        if (raise >= 0) {
            c[raise]++;
        }
        return c;
    }

    private boolean redistribute() {
        boolean any = false;
        for (int i = 0; i < best.length && !exhausted(); i++) {
            for (int j = i + 1; j < best.length && j <= i + 16 && !exhausted(); j++) {
                if (best[i] == 0 || bestBounds[i] != bestBounds[j] || best[j] == bestBounds[j]) {
                    continue;
                }
                long room = bestBounds[j] - best[j];
                long move = Math.min(best[i], room);
                long[] c = best.clone();
                c[i] -= move;
                c[j] += move;
                any |= tryCandidate(c);
            }
        }
        return any;
    }

    private boolean tryCandidate(long[] candidate) {
        attempts++;
        Choices in = Choices.replay(candidate);
        Outcome outcome;
        try {
            outcome = experiment.run(in);
        } catch (RuntimeException e) {
            return false; // invalid candidate: generation rejected these choices
        }
        long[] drawn = in.recorded();
        if (!outcome.failed() || outcome.failure().getClass() != failureKind || !shortlexLess(drawn, best)) {
            return false;
        }
        best = drawn;
        bestSpans = in.spans();
        bestBounds = in.bounds();
        bestOutcome = outcome;
        improvements++;
        return true;
    }

    static boolean shortlexLess(long[] a, long[] b) {
        if (a.length != b.length) {
            return a.length < b.length;
        }
        return Arrays.compare(a, b) < 0;
    }

    private static long[] without(long[] a, int from, int to) {
        long[] out = new long[a.length - (to - from)];
        System.arraycopy(a, 0, out, 0, from);
        System.arraycopy(a, to, out, from, a.length - to);
        return out;
    }

    private static long[] with(long[] a, int index, long value) {
        long[] out = a.clone();
        out[index] = value;
        return out;
    }
}
