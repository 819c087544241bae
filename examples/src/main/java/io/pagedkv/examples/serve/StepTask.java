package io.pagedkv.examples.serve;

/** One sequence's share of an engine step, run by one of the {@link StepWorkers}. */
interface StepTask {

    /** Runs the task; must not throw (a task records its own failure). */
    void runStep();
}
