package io.pagedkv.examples.serve;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The worker threads of the engine: {@link #run} runs {@link StepTask#runStep()} of every
 * task of a step in parallel (the calling scheduler thread works too) and returns when all are
 * done. Tasks are taken one at a time from a shared index, so a long prefill chunk and many one-token
 * decodes balance across threads. Nothing is allocated per step. {@link #run} must be called by one
 * thread at a time.
 */
final class StepWorkers implements AutoCloseable {

    private final Thread[] threads;
    private final Object lock = new Object();
    /** High 32 bits: the step's generation; low 32 bits: the next task index of that step. */
    private final AtomicLong cursor = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();
    // guarded by lock; a worker copies them when it wakes for a step
    private StepTask[] batch = new EngineRequest[0];
    private int batchCount;
    private int generation;
    private boolean closed;

    /** {@code threads} threads in all, the caller of {@link #run} included ({@code threads - 1} are started). */
    StepWorkers(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("workers: " + threads + " (expected: >= 1)");
        }
        this.threads = new Thread[threads - 1];
        for (int i = 0; i < this.threads.length; i++) {
            Thread t = new Thread(this::workLoop, "pagedkv-worker-" + (i + 1));
            t.setDaemon(true);
            this.threads[i] = t;
            t.start();
        }
    }

    /** Threads working on a step, the caller included. */
    int threads() {
        return threads.length + 1;
    }

    /** Runs {@code tasks[0 .. count)} in parallel and returns when every one has finished. */
    void run(StepTask[] tasks, int count) {
        if (count == 0) {
            return;
        }
        int gen;
        synchronized (lock) {
            gen = ++generation;
            batch = tasks;
            batchCount = count;
            done.set(0);
            cursor.set((long) gen << 32);
            if (threads.length > 0 && count > 1) {
                lock.notifyAll();
            }
        }
        work(gen, tasks, count);
        if (done.get() < count) {
            synchronized (lock) {
                while (done.get() < count) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt(); // keep waiting: the tasks own engine state
                    }
                }
            }
        }
    }

    /** Claims and runs tasks of step {@code gen} until none is left; a late worker of an older step claims nothing. */
    private void work(int gen, StepTask[] tasks, int count) {
        while (true) {
            long c = cursor.get();
            if ((int) (c >>> 32) != gen) {
                return;
            }
            int i = (int) c;
            if (i >= count) {
                return;
            }
            if (!cursor.compareAndSet(c, c + 1)) {
                continue;
            }
            tasks[i].runStep();
            if (done.incrementAndGet() == count) {
                synchronized (lock) {
                    lock.notifyAll();
                }
            }
        }
    }

    private void workLoop() {
        int seen = 0;
        while (true) {
            StepTask[] tasks;
            int count;
            synchronized (lock) {
                while (generation == seen && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                seen = generation;
                tasks = batch;
                count = batchCount;
            }
            work(seen, tasks, count);
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
    }
}
