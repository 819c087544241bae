package io.pagedkv.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * How many leading tokens of one sequence have been written, per layer: token {@code p} of layer
 * {@code l} is readable exactly when {@code p < of(l)}, and a full block may enter the prefix cache
 * only when {@code min()} covers it. A slot below the mark holds K/V this sequence (or the prefix it
 * reused, or the parent it was forked from) wrote; a slot at or above it may still hold bytes of the
 * block's previous owner.
 *
 * <p>A whole-token write ({@link Sequence#write(int, int, float[], float[])}) of the next position of a
 * layer advances that layer's mark by one; writers that go out of order, write single heads or write
 * through a {@link Sequence#writableBlock(int) writable block} say what they wrote with
 * {@link #markAtLeast(int, int)}. Structural changes (truncation, an unlinked block, a moved slot)
 * lower the mark.
 *
 * <p>A mark for every layer at once ({@link #markAllAtLeast}, what a prefix hit, a fork's start or
 * an engine whose kernel writes all layers states) is one more field, {@code all}, that every layer's
 * mark is at least: one compare-and-set instead of one per layer. A layer's mark is
 * {@code max(all, marks[layer])}; lowering first folds {@code all} into the per-layer marks.
 *
 * <h2>Threading</h2>
 * Lock-free: marks only grow through compare-and-set, so writers of different positions or layers
 * may advance them from many threads; a reader that sees a mark (acquire) also sees the bytes written
 * before it was advanced. Lowering happens under the sequence's exclusive structure lock (no writer
 * runs then).
 */
final class WrittenMark {

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle ALL;

    static {
        try {
            ALL = MethodHandles.lookup().findVarHandle(WrittenMark.class, "all", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int[] marks;
    /** Every layer's mark is at least this (through {@link #ALL}). */
    @SuppressWarnings("unused")
    private int all;

    /** No token written in any of {@code layers} layers. */
    WrittenMark(int layers) {
        this.marks = new int[layers];
    }

    /** A copy (for a fork: the child has written what its parent had). */
    WrittenMark copy() {
        WrittenMark c = new WrittenMark(marks.length);
        for (int l = 0; l < marks.length; l++) {
            c.marks[l] = of(l);
        }
        return c; // published to other threads with the child sequence (a final field's object)
    }

    /** Tokens {@code [0, of(layer))} of {@code layer} are written. */
    int of(int layer) {
        return Math.max((int) ALL.getAcquire(this), (int) INTS.getAcquire(marks, layer));
    }

    /** Tokens written in every layer. */
    int min() {
        int m = Integer.MAX_VALUE;
        for (int l = 0; l < marks.length; l++) {
            m = Math.min(m, (int) INTS.getAcquire(marks, l));
        }
        return marks.length == 0 ? 0 : Math.max((int) ALL.getAcquire(this), m);
    }

    /** A whole token of {@code layer} was written at {@code position}: advances the mark if it was the next one. */
    void recordToken(int layer, int position) {
        if (of(layer) == position) {
            markAtLeast(layer, position + 1);
        }
    }

    /** Raises the mark of {@code layer} to at least {@code tokens}. */
    void markAtLeast(int layer, int tokens) {
        if ((int) ALL.getAcquire(this) >= tokens) {
            return;
        }
        int m;
        do {
            m = (int) INTS.getAcquire(marks, layer);
            if (m >= tokens) {
                return;
            }
        } while (!INTS.compareAndSet(marks, layer, m, tokens));
    }

    /** Raises every layer's mark to at least {@code tokens}: one compare-and-set. */
    void markAllAtLeast(int tokens) {
        if (marks.length == 0) {
            return;
        }
        int a;
        do {
            a = (int) ALL.getAcquire(this);
            if (a >= tokens) {
                return;
            }
        } while (!ALL.compareAndSet(this, a, tokens));
    }

    /** Folds {@code all} into the per-layer marks, so that a lowering can work layer by layer (structure lock held exclusively). */
    private void fold() {
        int a = (int) ALL.getAcquire(this);
        if (a == 0) {
            return;
        }
        for (int l = 0; l < marks.length; l++) {
            if ((int) INTS.getAcquire(marks, l) < a) {
                INTS.setRelease(marks, l, a);
            }
        }
        ALL.setRelease(this, 0);
    }

    /** Lowers every mark to at most {@code tokens} (truncation, a slot whose content is no longer known). */
    void lowerTo(int tokens) {
        fold();
        for (int l = 0; l < marks.length; l++) {
            if (of(l) > tokens) {
                INTS.setRelease(marks, l, tokens);
            }
        }
    }

    /** Slot {@code from} was copied onto slot {@code to}: where {@code from} was not written, neither is {@code to} now. */
    void slotCopied(int from, int to) {
        fold();
        for (int l = 0; l < marks.length; l++) {
            int m = of(l);
            if (from >= m && to < m) {
                INTS.setRelease(marks, l, to);
            }
        }
    }

    /** Tokens {@code [from, from + count)} were removed and later ones moved down by {@code count}. */
    void removed(int from, int count) {
        fold();
        for (int l = 0; l < marks.length; l++) {
            int m = of(l);
            if (m >= from + count) {
                INTS.setRelease(marks, l, m - count);
            } else if (m > from) {
                INTS.setRelease(marks, l, from);
            }
        }
    }
}
