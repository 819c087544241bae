package io.pagedkv.testkit;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Decides whether results observed on concurrent branches are explained by some sequential order
 * of the model: an interleaving that keeps each branch's own order, in which every command's
 * precondition holds and the model returns exactly the observed result (Wing and Gong's check,
 * by depth-first search over interleavings with pruning at the first mismatch).
 *
 * <p>The model has no copy operation, so each search node rebuilds it from
 * {@code initialModel} by replaying the prefix and the path so far: cost grows with the number of
 * interleavings, which is why the parallel mode keeps branches short. Stateless.
 */
final class Linearizability {
    private Linearizability() {
    }

    /**
     * Returns a model in the state after an explaining order, or null when no interleaving explains
     * {@code observed} ({@code observed[b][i]} is the result of {@code branches.get(b).get(i)}).
     */
    static <M, S> M explain(Supplier<M> initialModel, List<ParallelCommand<M, S>> prefix,
            List<List<ParallelCommand<M, S>>> branches, Object[][] observed) {
        int total = 0;
        for (List<ParallelCommand<M, S>> b : branches) {
            total += b.size();
        }
        return search(initialModel, prefix, branches, observed, new int[branches.size()], new int[total], 0);
    }

    private static <M, S> M search(Supplier<M> initialModel, List<ParallelCommand<M, S>> prefix,
            List<List<ParallelCommand<M, S>>> branches, Object[][] observed, int[] next, int[] path, int depth) {
        if (depth == path.length) {
            return rebuild(initialModel, prefix, branches, path, depth);
        }
        for (int b = 0; b < branches.size(); b++) {
            int i = next[b];
            if (i == branches.get(b).size()) {
                continue;
            }
            M model = rebuild(initialModel, prefix, branches, path, depth);
            ParallelCommand<M, S> command = branches.get(b).get(i);
            if (!command.precondition(model) || !Objects.equals(command.onModel(model), observed[b][i])) {
                continue;
            }
            path[depth] = b;
            next[b]++;
            M found = search(initialModel, prefix, branches, observed, next, path, depth + 1);
            next[b]--;
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    /** The model after the prefix and the first {@code depth} steps of {@code path} (branch numbers). */
    private static <M, S> M rebuild(Supplier<M> initialModel, List<ParallelCommand<M, S>> prefix,
            List<List<ParallelCommand<M, S>>> branches, int[] path, int depth) {
        M model = initialModel.get();
        for (ParallelCommand<M, S> c : prefix) {
            c.onModel(model);
        }
        int[] taken = new int[branches.size()];
        for (int d = 0; d < depth; d++) {
            int b = path[d];
            branches.get(b).get(taken[b]++).onModel(model);
        }
        return model;
    }
}
