package io.pagedkv.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The parallel (linearizability) mode for concurrent systems, small scale: each case is a
 * sequential prefix of commands followed by 2-4 short command lists ("branches") that run at the
 * same moment on their own threads against one system. The results the threads observe must be
 * explained by some interleaving of the branches run on the sequential model
 * ({@link Linearizability}); the model state of that interleaving must then satisfy the machine's
 * invariants. Each case is executed {@code repeats} times on fresh systems to give races a chance,
 * and a failing case is shrunk like any other (fewer, simpler commands; shrinking re-runs the
 * threads, so a rare race may shrink less far).
 *
 * <p>Commands must be {@link ParallelCommand}s. Branch commands are generated against the model
 * after the prefix (each branch on its own copy, rebuilt by replay), so their preconditions should
 * hold in any interleaving: e.g. free only what the prefix or the same branch allocated.
 *
 * <pre>{@code
 * ParallelStateful.of(new PoolMachine()).threads(2).branchSteps(3).prefixSteps(4).check();
 * }</pre>
 * Not thread-safe while being configured; {@code check} runs its branch threads itself.
 *
 * @param <M> the model type
 * @param <S> the system-under-test type (must be safe for the concurrent use the branches make)
 */
public final class ParallelStateful<M, S> {
    /** Most branch threads per case. */
    public static final int MAX_THREADS = 4;
    /** Most commands per branch (the interleaving search grows combinatorially with it). */
    public static final int MAX_BRANCH_STEPS = 6;
    /** How long the branch threads of one execution may take before the case fails as stuck. */
    public static final long BRANCH_TIMEOUT_SECONDS = 10;

    private final StateMachine<M, S> machine;
    private int threads = 2;
    private int branchSteps = 3;
    private int prefixSteps = 5;
    private int repeats = 10;
    private Integer tries;
    private Long seed;
    private Double maxSeconds;

    private ParallelStateful(StateMachine<M, S> machine) {
        this.machine = machine;
    }

    /** A parallel check of {@code machine}, whose commands must all be {@link ParallelCommand}s. */
    public static <M, S> ParallelStateful<M, S> of(StateMachine<M, S> machine) {
        if (machine == null) {
            throw new IllegalArgumentException("machine: null (expected: a state machine)");
        }
        return new ParallelStateful<>(machine);
    }

    /** Number of branches, each on its own thread (2 to {@value #MAX_THREADS}; default 2). */
    public ParallelStateful<M, S> threads(int n) {
        if (n < 2 || n > MAX_THREADS) {
            throw new IllegalArgumentException("threads: " + n + " (expected: 2.." + MAX_THREADS + ")");
        }
        this.threads = n;
        return this;
    }

    /** Maximum commands per branch (1 to {@value #MAX_BRANCH_STEPS}; default 3). */
    public ParallelStateful<M, S> branchSteps(int n) {
        if (n < 1 || n > MAX_BRANCH_STEPS) {
            throw new IllegalArgumentException("branchSteps: " + n + " (expected: 1.." + MAX_BRANCH_STEPS + ")");
        }
        this.branchSteps = n;
        return this;
    }

    /** Maximum commands in the sequential prefix (default 5; 0 for none). */
    public ParallelStateful<M, S> prefixSteps(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("prefixSteps: " + n + " (expected: >= 0)");
        }
        this.prefixSteps = n;
        return this;
    }

    /** Executions of each generated case on fresh systems (default 10). */
    public ParallelStateful<M, S> repeats(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("repeats: " + n + " (expected: >= 1)");
        }
        this.repeats = n;
        return this;
    }

    /** Cases to try (scaled up by the soak, see {@link Config#TRIES_PROP}). */
    public ParallelStateful<M, S> tries(int n) {
        this.tries = Config.checkTries(n);
        return this;
    }

    /** Fixes the seed (it wins over {@code -Dpagedkv.seed}; a failure prints it). */
    public ParallelStateful<M, S> seed(long s) {
        this.seed = s;
        return this;
    }

    /** Caps the time spent on cases; the check passes on the cases done when it runs out. */
    public ParallelStateful<M, S> maxSeconds(double seconds) {
        this.maxSeconds = Config.checkSeconds(seconds);
        return this;
    }

    /**
     * Runs the check, throwing a {@link PropertyFailure} whose inputs are a list of step lists: the
     * prefix first, then one list per branch, each step shown with its observed result.
     */
    public void check() {
        Runner.run("Parallel state machine", this::runOnce, Config.plan(tries, seed, maxSeconds));
    }

    private Outcome runOnce(Choices in) {
        List<ParallelCommand<M, S>> prefix = new ArrayList<>();
        M model = machine.initialModel();
        generate(in, model, prefix, prefixSteps);
        List<List<ParallelCommand<M, S>>> branches = new ArrayList<>();
        for (int b = 0; b < threads; b++) {
            M branchModel = machine.initialModel();
            for (ParallelCommand<M, S> c : prefix) {
                c.onModel(branchModel);
            }
            List<ParallelCommand<M, S>> branch = new ArrayList<>();
            generate(in, branchModel, branch, branchSteps);
            branches.add(branch);
        }
        Execution last = null;
        for (int r = 0; r < repeats; r++) {
            last = execute(prefix, branches);
            if (last.failure != null) {
                break;
            }
        }
        return new Outcome(last.steps(prefix, branches), last.show(prefix, branches), last.failure);
    }

    private void generate(Choices in, M model, List<ParallelCommand<M, S>> out, int maxSteps) {
        for (int step = 0; step < maxSteps; step++) {
            int span = in.startSpan();
            ParallelCommand<M, S> command = in.drawUniform(maxSteps) != 0 ? next(in, model) : null;
            in.endSpan(span);
            if (command == null) {
                return;
            }
            command.onModel(model);
            out.add(command);
        }
    }

    private ParallelCommand<M, S> next(Choices in, M model) {
        Gen<Command<M, S>> gen = machine.commands(model);
        for (int attempt = 0; attempt < Stateful.PRECONDITION_ATTEMPTS; attempt++) {
            Command<M, S> command = gen.generate(in);
            if (!(command instanceof ParallelCommand<M, S> parallel)) {
                throw new IllegalArgumentException("command: " + command + " (expected: a ParallelCommand)");
            }
            if (parallel.precondition(model)) {
                return parallel;
            }
        }
        return null;
    }

    /** One execution of a case on a fresh system. */
    private Execution execute(List<ParallelCommand<M, S>> prefix, List<List<ParallelCommand<M, S>>> branches) {
        Execution ex = new Execution(prefix.size(), branches);
        S sut = machine.newSystem();
        try {
            M model = machine.initialModel();
            for (int i = 0; i < prefix.size() && ex.failure == null; i++) {
                ParallelCommand<M, S> c = prefix.get(i);
                Object expected = c.onModel(model);
                ex.prefixResults[i] = c.onSystem(sut);
                ex.prefixDone = i + 1;
                if (!Objects.equals(expected, ex.prefixResults[i])) {
                    ex.failure = new AssertionError("prefix step " + (i + 1) + " " + c + ": "
                            + Show.value(ex.prefixResults[i]) + " (expected: " + Show.value(expected) + ")");
                }
            }
            if (ex.failure == null) {
                runBranches(sut, branches, ex);
            }
            if (ex.failure == null) {
                M explained = Linearizability.explain(machine::initialModel, prefix, branches, ex.observed);
                if (explained == null) {
                    ex.failure = new AssertionError("not linearizable: no interleaving of the " + branches.size()
                            + " branches on the model gives the observed results");
                } else {
                    machine.invariants(explained, sut);
                }
            }
        } catch (VirtualMachineError | Discard e) {
            throw e;
        } catch (Throwable t) {
            ex.failure = t;
        } finally {
            try {
                machine.close(sut);
            } catch (Exception e) {
                if (ex.failure == null) {
                    ex.failure = e;
                }
            }
        }
        return ex;
    }

    private void runBranches(S sut, List<List<ParallelCommand<M, S>>> branches, Execution ex)
            throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        Thread[] workers = new Thread[branches.size()];
        Throwable[] thrown = new Throwable[branches.size()];
        for (int b = 0; b < workers.length; b++) {
            int branch = b;
            workers[b] = Thread.ofPlatform().daemon().name("pagedkv-parallel-" + b).start(() -> {
                try {
                    start.await();
                    List<ParallelCommand<M, S>> commands = branches.get(branch);
                    for (int i = 0; i < commands.size(); i++) {
                        ex.observed[branch][i] = commands.get(i).onSystem(sut);
                    }
                } catch (Throwable t) {
                    thrown[branch] = t;
                }
            });
        }
        start.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BRANCH_TIMEOUT_SECONDS);
        for (Thread w : workers) {
            w.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (w.isAlive()) {
                ex.failure = new AssertionError("branch thread " + w.getName() + " still running after "
                        + BRANCH_TIMEOUT_SECONDS + " s (expected: done; deadlock?)");
                return;
            }
        }
        for (int b = 0; b < thrown.length; b++) {
            if (thrown[b] != null) {
                ex.failure = new AssertionError("branch " + (b + 1) + " threw " + thrown[b], thrown[b]);
                return;
            }
        }
        ex.branchesDone = true;
    }

    /** Results of one execution. Written by the branch threads before they are joined. */
    private static final class Execution {
        final Object[] prefixResults;
        final Object[][] observed;
        int prefixDone;
        boolean branchesDone;
        Throwable failure;

        Execution(int prefixLength, List<? extends List<?>> branches) {
            prefixResults = new Object[prefixLength];
            observed = new Object[branches.size()][];
            for (int b = 0; b < observed.length; b++) {
                observed[b] = new Object[branches.get(b).size()];
            }
        }

        <M, S> List<List<String>> steps(List<ParallelCommand<M, S>> prefix,
                List<List<ParallelCommand<M, S>>> branches) {
            List<List<String>> out = new ArrayList<>();
            out.add(lines(prefix, prefixResults, prefixDone));
            for (int b = 0; b < branches.size(); b++) {
                out.add(lines(branches.get(b), observed[b], branchesDone ? observed[b].length : 0));
            }
            return List.copyOf(out);
        }

        <M, S> String show(List<ParallelCommand<M, S>> prefix, List<List<ParallelCommand<M, S>>> branches) {
            List<List<String>> steps = steps(prefix, branches);
            StringBuilder sb = new StringBuilder("prefix (sequential):");
            appendSteps(sb, steps.get(0));
            for (int b = 1; b < steps.size(); b++) {
                sb.append("\nbranch ").append(b).append(" (thread ").append(b).append("):");
                appendSteps(sb, steps.get(b));
            }
            return sb.toString();
        }

        private static void appendSteps(StringBuilder sb, List<String> steps) {
            if (steps.isEmpty()) {
                sb.append(" (none)");
            }
            for (String s : steps) {
                sb.append("\n  ").append(s);
            }
        }

        private static <M, S> List<String> lines(List<ParallelCommand<M, S>> commands, Object[] results, int done) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < commands.size(); i++) {
                out.add((i + 1) + ". " + commands.get(i) + (i < done ? " -> " + Show.value(results[i]) : ""));
            }
            return List.copyOf(out);
        }
    }
}
