package io.pagedkv.testkit;

/**
 * One case of a check as a function of the choices: generate the input, run the test on it, and
 * report. Throws {@link Discard} when the case is to be thrown away; a failing test is reported in
 * the {@link Outcome}, not thrown.
 */
@FunctionalInterface
interface Experiment {
    Outcome run(Choices in);
}
