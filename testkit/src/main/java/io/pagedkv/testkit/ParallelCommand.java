package io.pagedkv.testkit;

import java.util.Objects;

/**
 * A command for the parallel (linearizability) mode of {@link ParallelStateful}: its effect on
 * the system and on the model are separate, and each returns a result, so the results observed
 * on concurrent threads can be checked against orders of the model.
 *
 * <p>{@link #onModel} may be called many times on the same command while interleavings are
 * searched (each time on a fresh model), so it must keep no state in the command: return the
 * result instead. Results are compared with {@link Objects#equals}. Sequentially, {@link #run}
 * applies both and asserts the results agree, so the same command works with {@link Stateful}.
 *
 * <p>Threading: {@code onSystem} runs on a branch thread, concurrently with other branches'
 * commands; {@code onModel} and {@code precondition} run on the checking thread only.
 *
 * @param <M> the model type
 * @param <S> the system-under-test type
 */
public interface ParallelCommand<M, S> extends Command<M, S> {
    /** Applies the operation to the system (possibly concurrently with others) and returns its result. */
    Object onSystem(S sut) throws Throwable;

    /** Applies the operation to the model and returns the result the system should give. */
    Object onModel(M model);

    /** Runs on both and asserts the system's result equals the model's. */
    @Override
    default void run(M model, S sut) throws Throwable {
        Object expected = onModel(model);
        Object actual = onSystem(sut);
        if (!Objects.equals(expected, actual)) {
            throw new AssertionError(this + ": " + Show.value(actual) + " (expected: " + Show.value(expected) + ")");
        }
    }
}
