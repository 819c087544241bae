package io.pagedkv.examples.simulate;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar redrawn in place with a carriage return: shown at once on a terminal, and
 * after {@value #QUIET_MILLIS} ms otherwise (so short runs stay quiet in logs and tests). Confined to
 * one thread.
 */
public final class ProgressBar implements ServingSimulator.Progress {

    /** How long a run stays silent when the output is not a terminal. */
    public static final long QUIET_MILLIS = 10_000;
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String label;
    private final boolean terminal;
    private final long startNanos = System.nanoTime();
    private boolean drawn;

    /** A bar labelled {@code label} on {@code out}; {@code terminal} shows it from the start. */
    public ProgressBar(PrintStream out, String label, boolean terminal) {
        this.out = out;
        this.label = label;
        this.terminal = terminal;
    }

    /** Whether standard output is an interactive terminal. */
    public static boolean isTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    @Override
    public void update(int finished, int total, long step) {
        long elapsedMillis = (System.nanoTime() - startNanos) / 1_000_000;
        if (!terminal && elapsedMillis < QUIET_MILLIS) {
            return;
        }
        int filled = total == 0 ? WIDTH : (int) ((long) finished * WIDTH / total);
        out.print(String.format(Locale.ROOT, "\r%-16s [%s%s] %d/%d requests, step %d",
                label, "#".repeat(filled), ".".repeat(WIDTH - filled), finished, total, step));
        out.flush();
        drawn = true;
    }

    /** Clears the bar's line if it was drawn. */
    public void finish() {
        if (drawn) {
            out.print("\r" + " ".repeat(100) + "\r");
            out.flush();
        }
    }
}
