package io.pagedkv.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Runs a {@link StateMachine}: {@code Stateful.check(machine)} with defaults, or
 * {@code Stateful.of(machine).steps(n).tries(n).seed(s).check()}.
 *
 * <p>Each case is one run of up to {@code steps} commands (geometric length, mean about
 * {@code steps}). Each step is a span of the choice sequence: a "more?" choice, then the command,
 * so the shrinker drops whole steps and simplifies arguments; a replayed step whose precondition
 * fails draws again (up to {@value #PRECONDITION_ATTEMPTS} times) and otherwise ends the run, so
 * shrunk runs respect preconditions. A failure reports the numbered steps up to the failing one.
 * Not thread-safe while being configured.
 *
 * @param <M> the model type
 * @param <S> the system-under-test type
 */
public final class Stateful<M, S> {
    /** Default maximum number of commands per run. */
    public static final int STEPS_DEFAULT = 50;
    /** Draws per step before a step whose preconditions never hold ends the run. */
    public static final int PRECONDITION_ATTEMPTS = 20;

    private final StateMachine<M, S> machine;
    private int steps = STEPS_DEFAULT;
    private Integer tries;
    private Long seed;
    private Double maxSeconds;

    private Stateful(StateMachine<M, S> machine) {
        this.machine = machine;
    }

    /** A configurable run of {@code machine}. */
    public static <M, S> Stateful<M, S> of(StateMachine<M, S> machine) {
        if (machine == null) {
            throw new IllegalArgumentException("machine: null (expected: a state machine)");
        }
        return new Stateful<>(machine);
    }

    /** Checks {@code machine} with the default settings. */
    public static <M, S> void check(StateMachine<M, S> machine) {
        of(machine).check();
    }

    /**
     * Runs exactly {@code commands} on a fresh model and system, checking each precondition and the
     * invariants after every step, then closes the system: the regression-test form of a shrunk
     * failure's numbered steps. Throws an {@link AssertionError} naming the failing step.
     */
    @SafeVarargs
    public static <M, S> void replay(StateMachine<M, S> machine, Command<M, S>... commands) {
        M model = machine.initialModel();
        S sut = machine.newSystem();
        int step = 0;
        try {
            machine.invariants(model, sut);
            for (Command<M, S> command : commands) {
                step++;
                if (!command.precondition(model)) {
                    throw new IllegalArgumentException("step " + step + " " + command + ": precondition fails"
                            + " (expected: holds)");
                }
                command.run(model, sut);
                machine.invariants(model, sut);
            }
        } catch (IllegalArgumentException | VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("step " + step + (step == 0 ? " (initial state)" : " " + commands[step - 1])
                    + " fails: " + t, t);
        } finally {
            try {
                machine.close(sut);
            } catch (Exception e) {
                throw new AssertionError("close() after " + step + " steps fails: " + e, e);
            }
        }
    }

    /** Maximum commands per run. */
    public Stateful<M, S> steps(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("steps: " + n + " (expected: >= 1)");
        }
        this.steps = n;
        return this;
    }

    /** Runs to try (scaled up by the soak, see {@link Config#TRIES_PROP}). */
    public Stateful<M, S> tries(int n) {
        this.tries = Config.checkTries(n);
        return this;
    }

    /** Fixes the seed (it wins over {@code -Dpagedkv.seed}; a failure prints it). */
    public Stateful<M, S> seed(long s) {
        this.seed = s;
        return this;
    }

    /** Caps the time spent on runs; the check passes on the runs done when it runs out. */
    public Stateful<M, S> maxSeconds(double seconds) {
        this.maxSeconds = Config.checkSeconds(seconds);
        return this;
    }

    /** Runs the machine, throwing a {@link PropertyFailure} whose inputs are the numbered steps. */
    public void check() {
        Runner.run("State machine", this::runOnce, Config.plan(tries, seed, maxSeconds));
    }

    private Outcome runOnce(Choices in) {
        M model = machine.initialModel();
        S sut = machine.newSystem();
        List<String> log = new ArrayList<>();
        Throwable failure = null;
        boolean stepFailed = false;
        try {
            failure = invariants(model, sut);
            for (int step = 0; step < steps && failure == null; step++) {
                int span = in.startSpan();
                Command<M, S> command = in.drawUniform(steps) != 0 ? next(in, model) : null;
                if (command == null) {
                    in.endSpan(span);
                    break;
                }
                try {
                    command.run(model, sut);
                    failure = invariants(model, sut);
                } catch (Discard | VirtualMachineError e) {
                    throw e;
                } catch (Throwable t) {
                    failure = t;
                }
                log.add(command.toString());
                stepFailed = failure != null;
                in.endSpan(span);
            }
        } finally {
            try {
                machine.close(sut);
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        return new Outcome(Collections.unmodifiableList(numbered(log)), show(log, failure, stepFailed), failure);
    }

    private Command<M, S> next(Choices in, M model) {
        Gen<Command<M, S>> gen = machine.commands(model);
        for (int attempt = 0; attempt < PRECONDITION_ATTEMPTS; attempt++) {
            Command<M, S> command = gen.generate(in);
            if (command.precondition(model)) {
                return command;
            }
        }
        return null;
    }

    private Throwable invariants(M model, S sut) {
        try {
            machine.invariants(model, sut);
            return null;
        } catch (Discard | VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            return t;
        }
    }

    private static List<String> numbered(List<String> log) {
        List<String> out = new ArrayList<>(log.size());
        for (int i = 0; i < log.size(); i++) {
            out.add((i + 1) + ". " + log.get(i));
        }
        return out;
    }

    private static String show(List<String> log, Throwable failure, boolean stepFailed) {
        StringBuilder sb = new StringBuilder();
        sb.append(log.size()).append(log.size() == 1 ? " step" : " steps");
        if (log.isEmpty() && failure != null) {
            sb.append(" (fails in the initial state or in close())");
        }
        List<String> lines = numbered(log);
        for (int i = 0; i < lines.size(); i++) {
            sb.append('\n').append(lines.get(i));
            if (stepFailed && i == lines.size() - 1) {
                sb.append("   <-- fails: ").append(Show.failure(failure));
            }
        }
        if (failure != null && !stepFailed && !log.isEmpty()) {
            sb.append("\nthen close() fails: ").append(Show.failure(failure));
        }
        return sb.toString();
    }
}
