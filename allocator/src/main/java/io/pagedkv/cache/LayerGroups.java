package io.pagedkv.cache;

import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;

/**
 * Which model layers belong to which layer group, and what each group attends over.
 *
 * <p>A layer group is a set of model layers that share one block table per sequence: one
 * {@link CacheLayout} describes one group (its {@code layers} are the layers <i>per group</i>), and
 * every group has the same number of layers, so every group's block has the same size and one
 * {@link BlockPool} serves them all (any free block serves any group). A group is either
 * {@link Kind#GLOBAL} (it keeps every token) or {@link Kind#SLIDING} over a window of
 * {@link #window(int)} tokens (its blocks can be freed once they fall entirely outside the window).
 * The one-group case ({@link #single(int)}) is today's layout.
 *
 * <p>Example: Gemma-2-9B's 42 layers slide over 4096 tokens on even layers and attend globally on odd
 * ones, so {@link #of(ModelShape)} gives two groups of 21 layers: group 0 = sliding (layers 0, 2, ...,
 * 40), group 1 = global (layers 1, 3, ..., 41); model layer 7 is layer 3 of group 1.
 *
 * <pre>{@code
 * LayerGroups groups = LayerGroups.of(ModelPresets.GEMMA_2_9B);
 * int g = groups.groupOf(layer);            // which block table
 * int l = groups.layerInGroup(layer);       // which layer of the group's CacheLayout
 * }</pre>
 *
 * <p>Invariants, checked at construction: at least one group; every group has the same positive
 * number of layers; every model layer {@code 0 .. modelLayers()-1} is in exactly one group; a sliding
 * window is positive, a global group's window is 0. Within a group, layers are numbered in model
 * order. Immutable and thread-safe; the lookups allocate nothing.
 */
public final class LayerGroups {

    /** What a group's layers attend over. */
    public enum Kind {
        /** Every token of the context: the group keeps all its blocks. */
        GLOBAL,
        /** The last {@code window} tokens: blocks entirely outside the window can be freed. */
        SLIDING
    }

    private final Kind[] kinds;
    private final int[] windows;
    private final int[][] members; // group -> model layers, ascending
    private final int[] groupOf; // model layer -> group
    private final int[] layerInGroup; // model layer -> index within its group

    private LayerGroups(Kind[] kinds, int[] windows, int[][] members) {
        if (kinds.length == 0) {
            throw new IllegalArgumentException("groups: 0 (expected: at least one layer group)");
        }
        int per = members[0].length;
        int total = 0;
        for (int g = 0; g < kinds.length; g++) {
            if (kinds[g] == null) {
                throw new IllegalArgumentException("kind of group " + g + ": null (expected: GLOBAL or SLIDING)");
            }
            if (members[g].length == 0 || members[g].length != per) {
                throw new IllegalArgumentException("group " + g + ": " + members[g].length + " layers (expected: "
                        + per + ", every group the same positive count so that blocks have one size)");
            }
            if (kinds[g] == Kind.SLIDING ? windows[g] <= 0 : windows[g] != 0) {
                throw new IllegalArgumentException("window of " + kinds[g] + " group " + g + ": " + windows[g]
                        + " (expected: " + (kinds[g] == Kind.SLIDING ? "> 0 tokens" : "0") + ")");
            }
            total += per;
        }
        int[] of = new int[total];
        int[] in = new int[total];
        Arrays.fill(of, -1);
        for (int g = 0; g < kinds.length; g++) {
            int[] m = members[g].clone();
            Arrays.sort(m);
            members[g] = m;
            for (int i = 0; i < m.length; i++) {
                int layer = m[i];
                if (layer < 0 || layer >= total) {
                    throw new IllegalArgumentException("layer " + layer + " in group " + g
                            + " (expected: 0 <= layer < " + total + " model layers)");
                }
                if (of[layer] != -1) {
                    throw new IllegalArgumentException("layer " + layer + " in groups " + of[layer] + " and " + g
                            + " (expected: in exactly one group)");
                }
                of[layer] = g;
                in[layer] = i;
            }
        }
        this.kinds = kinds;
        this.windows = windows;
        this.members = members;
        this.groupOf = of;
        this.layerInGroup = in;
    }

    /** One global group of all {@code layers} model layers: today's layout. */
    public static LayerGroups single(int layers) {
        if (layers <= 0) {
            throw new IllegalArgumentException("layers: " + layers + " (expected: > 0)");
        }
        int[] all = new int[layers];
        for (int l = 0; l < layers; l++) {
            all[l] = l;
        }
        return new LayerGroups(new Kind[] {Kind.GLOBAL}, new int[] {0}, new int[][] {all});
    }

    /**
     * The groups of a model's attention pattern: {@link AttentionPattern#GLOBAL} gives one global
     * group, {@link AttentionPattern#SLIDING} one sliding group, and
     * {@link AttentionPattern#ALTERNATING_SLIDING_GLOBAL} a sliding group of the even layers (group 0)
     * and a global group of the odd ones (group 1).
     *
     * @throws IllegalArgumentException if the sliding and global layers are not equally many (an odd
     *     layer count under alternation): groups must have equal layer counts
     */
    public static LayerGroups of(ModelShape shape) {
        if (shape == null) {
            throw new IllegalArgumentException("shape: null (expected: a ModelShape)");
        }
        int layers = shape.layers();
        return switch (shape.pattern()) {
            case GLOBAL -> single(layers);
            case SLIDING -> {
                LayerGroups one = single(layers);
                yield new LayerGroups(new Kind[] {Kind.SLIDING}, new int[] {shape.slidingWindow()},
                        new int[][] {one.members[0]});
            }
            case ALTERNATING_SLIDING_GLOBAL -> {
                int sliding = shape.slidingLayers();
                int global = shape.globalLayers();
                if (sliding != global) {
                    throw new IllegalArgumentException(shape.name() + ": " + sliding + " sliding and " + global
                            + " global layers (expected: equal counts, so that both groups' blocks have one size)");
                }
                int[] s = new int[sliding];
                int[] g = new int[global];
                int si = 0;
                int gi = 0;
                for (int l = 0; l < layers; l++) {
                    if (shape.isSlidingLayer(l)) {
                        s[si++] = l;
                    } else {
                        g[gi++] = l;
                    }
                }
                yield new LayerGroups(new Kind[] {Kind.SLIDING, Kind.GLOBAL}, new int[] {shape.slidingWindow(), 0},
                        new int[][] {s, g});
            }
        };
    }

    /**
     * Groups given explicitly: group {@code g} is of kind {@code kinds[g]}, window {@code windows[g]}
     * (0 for a global group) and holds the model layers {@code layers[g]}.
     *
     * @throws IllegalArgumentException if the arrays differ in length or the invariants above fail
     */
    public static LayerGroups of(Kind[] kinds, int[] windows, int[][] layers) {
        if (kinds == null || windows == null || layers == null || kinds.length != windows.length
                || kinds.length != layers.length) {
            throw new IllegalArgumentException("kinds, windows, layers: lengths "
                    + (kinds == null ? "null" : kinds.length) + ", " + (windows == null ? "null" : windows.length) + ", "
                    + (layers == null ? "null" : layers.length) + " (expected: one entry per group in each)");
        }
        int[][] copy = new int[layers.length][];
        for (int g = 0; g < layers.length; g++) {
            if (layers[g] == null) {
                throw new IllegalArgumentException("layers of group " + g + ": null (expected: model layer indices)");
            }
            copy[g] = layers[g].clone();
        }
        return new LayerGroups(kinds.clone(), windows.clone(), copy);
    }

    /** Number of groups (1 for today's layout). */
    public int groupCount() {
        return kinds.length;
    }

    /** Layers in every group: the {@code layers} of a group's {@link CacheLayout}. */
    public int layersPerGroup() {
        return members[0].length;
    }

    /** Layers of the model: {@code groupCount() * layersPerGroup()}. */
    public int modelLayers() {
        return groupOf.length;
    }

    /** The kind of group {@code group}. */
    public Kind kind(int group) {
        return kinds[checkGroup(group)];
    }

    /** Whether group {@code group} slides. */
    public boolean isSliding(int group) {
        return kinds[checkGroup(group)] == Kind.SLIDING;
    }

    /** The sliding window of group {@code group} in tokens; 0 for a global group. */
    public int window(int group) {
        return windows[checkGroup(group)];
    }

    /** Whether any group slides. */
    public boolean hasSliding() {
        for (Kind k : kinds) {
            if (k == Kind.SLIDING) {
                return true;
            }
        }
        return false;
    }

    /** The group that holds model layer {@code layer}. */
    public int groupOf(int layer) {
        return groupOf[checkLayer(layer)];
    }

    /** The index of model layer {@code layer} within its group (the layer of the group's layout). */
    public int layerInGroup(int layer) {
        return layerInGroup[checkLayer(layer)];
    }

    /** The model layer that is layer {@code layerInGroup} of group {@code group}. */
    public int modelLayer(int group, int layerInGroup) {
        int[] m = members[checkGroup(group)];
        if (layerInGroup < 0 || layerInGroup >= m.length) {
            throw new IndexOutOfBoundsException("layerInGroup: " + layerInGroup + " (expected: 0 <= layerInGroup < "
                    + m.length + ")");
        }
        return m[layerInGroup];
    }

    /**
     * Most blocks a sliding group's sequence holds once blocks outside the window are freed:
     * {@code ceil(window / blockSize) + 1}; for a global group, {@link Integer#MAX_VALUE}.
     */
    public int maxWindowBlocks(int group, int blockSize) {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("blockSize: " + blockSize + " (expected: > 0)");
        }
        int w = windows[checkGroup(group)];
        return w == 0 ? Integer.MAX_VALUE : (int) (((long) w + blockSize - 1) / blockSize + 1);
    }

    /**
     * The layout of one group for a model laid out as {@code modelLayout}: the same heads, head dim,
     * dtype, block size and block order, {@link #layersPerGroup()} layers. For one group it is {@code modelLayout}.
     *
     * @throws IllegalArgumentException if the model layout's layer count is not {@link #modelLayers()}
     */
    public CacheLayout groupLayout(CacheLayout modelLayout) {
        ModelShape s = modelLayout.shape();
        if (s.layers() != modelLayers()) {
            throw new IllegalArgumentException("layout: " + s.layers() + " layers of " + s.name() + " (expected: "
                    + modelLayers() + ", the layers of these groups)");
        }
        if (kinds.length == 1 && kinds[0] == Kind.GLOBAL) {
            return modelLayout;
        }
        ModelShape g = new ModelShape(s.name() + "/group", layersPerGroup(), s.queryHeads(), s.kvHeads(), s.headDim(),
                0, AttentionPattern.GLOBAL, 0);
        return new CacheLayout(g, modelLayout.dtype(), modelLayout.blockSize(), modelLayout.order());
    }

    private int checkGroup(int group) {
        if (group < 0 || group >= kinds.length) {
            throw new IndexOutOfBoundsException("group: " + group + " (expected: 0 <= group < " + kinds.length + ")");
        }
        return group;
    }

    private int checkLayer(int layer) {
        if (layer < 0 || layer >= groupOf.length) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + groupOf.length + ")");
        }
        return layer;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("LayerGroups[");
        for (int g = 0; g < kinds.length; g++) {
            if (g > 0) {
                b.append(", ");
            }
            b.append(kinds[g] == Kind.SLIDING ? "sliding(" + windows[g] + ")" : "global").append(" x")
                    .append(members[g].length);
        }
        return b.append(']').toString();
    }
}
