package io.pagedkv.testkit;

/**
 * One step of a stateful test: an operation applied to both the model and the system under test.
 *
 * <p>{@link #run} applies the operation to both and asserts the postcondition (the system's answer
 * agrees with the model's). {@code toString()} is what the failure report prints as a numbered
 * step, so make it read like code ({@code "free(3)"}); it is called after {@code run}, so it may
 * include the result ({@code "allocate() -> 3"}). A command is created for one step of one run
 * and used on the checking thread only.
 *
 * @param <M> the model type
 * @param <S> the system-under-test type
 */
public interface Command<M, S> {
    /** Whether this command may run in the model's current state (default: always). */
    default boolean precondition(M model) {
        return true;
    }

    /** Applies the command to the model and the system and asserts that they agree. */
    void run(M model, S sut) throws Throwable;
}
