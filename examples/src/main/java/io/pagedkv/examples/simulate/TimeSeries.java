package io.pagedkv.examples.simulate;

import java.util.Arrays;

/**
 * Per-step samples of one simulation for the chart: running requests, live bytes and reserved bytes.
 *
 * <p>Grows by doubling; {@link #add} allocates only when it grows. Not thread-safe.
 */
public final class TimeSeries {

    private int size;
    private int[] running = new int[1024];
    private long[] liveBytes = new long[1024];
    private long[] reservedBytes = new long[1024];

    /** Appends the sample of the next step. */
    public void add(int runningRequests, long live, long reserved) {
        if (size == running.length) {
            running = Arrays.copyOf(running, size * 2);
            liveBytes = Arrays.copyOf(liveBytes, size * 2);
            reservedBytes = Arrays.copyOf(reservedBytes, size * 2);
        }
        running[size] = runningRequests;
        liveBytes[size] = live;
        reservedBytes[size] = reserved;
        size++;
    }

    /** Number of steps sampled. */
    public int size() {
        return size;
    }

    /** Requests running at step {@code i}. */
    public int running(int i) {
        return running[check(i)];
    }

    /** Bytes of live tokens at step {@code i}. */
    public long liveBytes(int i) {
        return liveBytes[check(i)];
    }

    /** Bytes held by requests at step {@code i}. */
    public long reservedBytes(int i) {
        return reservedBytes[check(i)];
    }

    private int check(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("step: " + i + " (expected: 0 <= step < " + size + ")");
        }
        return i;
    }
}
