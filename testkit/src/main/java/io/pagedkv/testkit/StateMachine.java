package io.pagedkv.testkit;

/**
 * A model-based test: a simple model, a system under test, and the commands that drive both.
 * Run it with {@link Stateful#check(StateMachine)} or {@link Stateful#of(StateMachine)}.
 *
 * <p>Each run starts from {@link #initialModel()} and {@link #newSystem()}, draws commands from
 * {@link #commands(Object)} for the current model (skipping those whose precondition fails), runs
 * each on both, checks {@link #invariants} after every step, and finally calls {@link #close}.
 * A failing run is shrunk (fewer commands, simpler arguments, preconditions respected) and
 * reported as numbered steps. Implementations must be deterministic given the commands.
 *
 * <p>Threading: every method is called on the checking thread; only the parallel mode's branch
 * threads call {@link ParallelCommand#onSystem} concurrently on the system under test.
 *
 * @param <M> the model type (mutable; commands update it)
 * @param <S> the system-under-test type
 */
public interface StateMachine<M, S> {
    /** A fresh model in its initial state. */
    M initialModel();

    /** A fresh system under test in the state that matches {@link #initialModel()}. */
    S newSystem();

    /** The commands that may run next, given the model's current state. */
    Gen<Command<M, S>> commands(M model);

    /** Asserts what must hold between model and system after every step (default: nothing). */
    default void invariants(M model, S sut) throws Throwable {
    }

    /** Releases the system under test after a run, passing or failing (default: nothing). */
    default void close(S sut) throws Exception {
    }
}
