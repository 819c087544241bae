package io.pagedkv.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A native int32 copy of a plan array for kernels outside the heap: writable memory the plan
 * fills, and the read-only view it hands out. Grown (GC-managed, {@link Arena#ofAuto()}) only when a
 * step needs more room than any before it, so steady-state steps allocate nothing. Owner thread only.
 */
final class NativeInts {

    private MemorySegment memory = MemorySegment.NULL;
    private MemorySegment view = MemorySegment.NULL;

    /** Copies {@code src[0 .. n)} in, growing the memory first if it is too small. */
    void publish(int[] src, int n) {
        long bytes = (long) n * Integer.BYTES;
        if (memory.byteSize() < bytes) {
            memory = Arena.ofAuto().allocate(Math.max(bytes, Math.max(64, memory.byteSize() * 2)), Integer.BYTES);
            view = memory.asReadOnly();
        }
        if (n > 0) {
            MemorySegment.copy(src, 0, memory, ValueLayout.JAVA_INT, 0, n);
        }
    }

    /** The read-only view (at least the published entries). */
    MemorySegment view() {
        return view;
    }
}
