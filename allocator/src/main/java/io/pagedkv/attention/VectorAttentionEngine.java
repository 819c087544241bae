package io.pagedkv.attention;

import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API engine: a tile is {@link VectorLanes#L} consecutive slots (16 with AVX-512, 8 with
 * AVX2), and every step works on all of them at once, whatever the head dim.
 *
 * <h2>One pass over the bytes</h2>
 * Keys and values are read where they lie (a block's head run, or a contiguous segment) and widened
 * to floats in registers as they are loaded: binary32 as is, Q8_0 as its int8 codes. Each loaded
 * vector serves four query rows of the KV head's group at once (grouped-query attention), so a key or
 * value byte is read from memory once per tile. The other dtypes (F16, BF16, FP8, Q4_0) and head
 * dims that are not a whole number of vectors are first decoded a tile at a time by their (Vector API)
 * codec into a float scratch that the tile's rows then share.
 *
 * <h2>Scores across slots</h2>
 * For each query row the products {@code q * k} of a slot accumulate in one partial vector
 * ({@code headDim / L} fused multiply-adds); a butterfly then reduces the {@code L} partial vectors of
 * the tile at once: at each of its {@code log2 L} levels pairs of vectors fold with one blend pair, one
 * lane swap and one add, in registers, instead of a lane reduction per slot; a last rearrange puts slot
 * {@code j} in lane {@code j}. For a head dim dividing {@code L} (8 in stories260K: two slots per
 * 512-bit vector) a vector holds several slots against the query repeated across it, and the butterfly
 * starts lower. Masked lanes (slots past the tile, holes, causally hidden slots) become minus infinity
 * with one blend.
 *
 * <h2>Q8_0 in integer form</h2>
 * A key's int8 codes are dotted with the fp32 query group by group (32 values), and the group's fp16
 * scale multiplies that group's partial sum, as llama.cpp's {@code vec_dot_q8_0} applies its scales
 * per block; the codes (integers up to 127) are exact as floats. The query is not quantised, so
 * nothing is lost beyond fp32 rounding order. A value's scale is folded into the slot's probability
 * ({@code p * d}), so values too are accumulated from their codes.
 *
 * <h2>Softmax</h2>
 * {@code exp} is the Vector API's {@link VectorOperators#EXP} on the whole tile (an SVML stub on x86).
 * The maximum is lazy: one compare of the tile's scores with the running maximum, and a lane
 * reduction only when one exceeds it (then one scalar {@code exp} rescales the row); the denominator
 * is kept as a vector of lane sums, reduced once per row when the pass finishes.
 *
 * <p>Only loaded when {@code jdk.incubator.vector} is present. Not thread-safe (owns its scratch);
 * allocates nothing per call.
 */
final class VectorAttentionEngine extends AttentionEngine {

    private static final VectorSpecies<Float> F = VectorLanes.F;
    private static final VectorSpecies<Integer> I = VectorLanes.I;
    private static final int L = VectorLanes.L;
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Query rows folded together over one load of a key or value vector. */
    private static final int ROWS = 4;
    /** Floats of one row's block of partial vectors in {@link #part}. */
    private static final int BLOCK = L * L;

    /** How keys and values are read in the loops: a {@link VectorLanes} kind (F32 for the scratch). */
    private final int readKind;
    /** Whether tiles are first decoded into {@link #keyScratch} / {@link #valueScratch}. */
    private final boolean viaScratch;
    /** Whether the scratch is decoded slot by slot into zero-padded rows (head dim not whole vectors). */
    private final boolean padded;
    private final int headBytes;
    /** Head dim divides L: several slots per vector. */
    private final boolean packed;
    /** Vectors per head (1 when packed). */
    private final int chunks;
    /** Floats per row of queries and accumulators: chunks * L. */
    private final int stride;
    /** Bytes from one slot to the next in what the loops read. */
    private final long slotBytes;
    /** Byte offset of each chunk inside a slot, in what the loops read. */
    private final int[] chunkOff;
    /** Q8_0: groups of 32 per head, and chunks per group; else 1 group spanning all chunks. */
    private final int groups;
    private final int chunksPerGroup;
    private final VectorShuffle<Float> unpermute;
    /** Packed: butterfly input vectors (the head dim) and its first level. */
    private final int packedVectors;
    /**
     * Packed values: lane j of vector k takes the probability of slot k * (L / headDim) + j / headDim,
     * read with an index-map gather (a shuffle held in an array is not intrinsified: it would box).
     */
    private final int[] spread;
    /** Decoded tiles (dtypes without a fused load), and the same arrays as segments for the loops. */
    private final float[] keyTile;
    private final float[] valueTile;
    private final MemorySegment keyScratch;
    private final MemorySegment valueScratch;
    /** Q8_0 scales of the tile: [group][slot]. */
    private final float[] keyScales;
    private final float[] valueScales;
    private final float[] queries;
    /** ROWS blocks of L partial vectors of L floats. */
    private final float[] part;
    private final float[] prob;
    /** Q8_0: probabilities times the value scales, [row][group][slot]. */
    private final float[] weighted;
    private final float[] max;
    /** Per row, L lane sums of the softmax denominator (reduced once, in {@link #finish}). */
    private final float[] sum;
    private final float[] acc;
    /** Per KV head: bit i set when query i saw a slot of the head's last scored tile. */
    private final int[] seenQueries;
    /** A row of zero queries whose accumulator and probabilities nobody reads: pads a group to four rows. */
    private final int dummyRow;
    private int nq;
    private int firstPosition;
    private float[] weights;
    private int weightSlots;

    /**
     * An engine for {@code dtype} whose drivers pass slots {@code slotStride} bytes apart. A stride
     * other than one head vector (a {@code TOKEN_RUNS} block) changes no loop: the direct loads step by
     * it, and the tiles decoded into scratch are decoded slot by slot; only the packed F32 loads, which
     * read slots as one contiguous stream, go through the scratch instead.
     */
    VectorAttentionEngine(ModelShape shape, KvDType dtype, long slotStride) {
        super(shape, slotStride);
        this.headBytes = dtype.bytesFor(headDim);
        this.packed = headDim < L && L % headDim == 0;
        this.chunks = packed ? 1 : (headDim + L - 1) / L;
        this.stride = chunks * L;
        boolean whole = headDim % L == 0;
        int fused = switch (dtype) {
            case F32 -> VectorLanes.F32;
            case Q8_0 -> VectorLanes.Q8_0;
            default -> -1;
        };
        boolean direct = fused >= 0 && (whole || (packed && fused == VectorLanes.F32 && slotStride == headBytes));
        this.viaScratch = !direct;
        this.padded = !direct && !packed && !whole;
        this.readKind = direct ? fused : VectorLanes.F32;
        int slotFloats = packed ? headDim : stride;
        this.slotBytes = direct ? slotStride : (long) slotFloats * Float.BYTES;
        this.groups = readKind == VectorLanes.Q8_0 ? headDim / 32 : 1;
        this.chunksPerGroup = readKind == VectorLanes.Q8_0 ? 32 / L : chunks;
        this.chunkOff = new int[chunks];
        for (int c = 0; c < chunks; c++) {
            chunkOff[c] = switch (readKind) {
                case VectorLanes.F32 -> c * L * Float.BYTES;
                default -> (c / chunksPerGroup) * 34 + 2 + (c % chunksPerGroup) * L;
            };
        }
        this.packedVectors = packed ? headDim : 0;
        this.unpermute = packed ? VectorLanes.unpermute(headDim, L / headDim, headDim) : VectorLanes.unpermute(L, 1, L);
        this.spread = new int[packed ? headDim * L : 0];
        for (int k = 0; packed && k < headDim; k++) {
            for (int j = 0; j < L; j++) {
                spread[k * L + j] = k * (L / headDim) + j / headDim;
            }
        }
        this.keyTile = new float[viaScratch ? L * slotFloats : 0];
        this.valueTile = new float[viaScratch ? L * slotFloats : 0];
        this.keyScratch = viaScratch ? MemorySegment.ofArray(keyTile) : null;
        this.valueScratch = viaScratch ? MemorySegment.ofArray(valueTile) : null;
        this.keyScales = new float[groups * L];
        this.valueScales = new float[groups * L];
        int rows = PagedAttention.QUERY_TILE * queryHeads + 1;
        this.dummyRow = rows - 1;
        this.queries = new float[rows * stride];
        this.part = new float[ROWS * L * L];
        this.prob = new float[rows * L];
        this.weighted = new float[readKind == VectorLanes.Q8_0 ? rows * groups * L : 0];
        this.max = new float[rows];
        this.sum = new float[rows * L];
        this.acc = new float[rows * stride];
        this.seenQueries = new int[kvHeads];
    }

    @Override
    int tileSlots() {
        return L;
    }

    @Override
    void begin(float[] q, int qOff, int nq, int firstPosition, float[] weights, int weightSlots) {
        this.nq = nq;
        this.firstPosition = firstPosition;
        this.weights = weights;
        this.weightSlots = weightSlots;
        int rows = nq * queryHeads;
        Arrays.fill(max, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, rows * L, 0f);
        Arrays.fill(acc, 0, rows * stride, 0f);
        for (int row = 0; row < rows; row++) {
            int src = qOff + row * headDim;
            int dst = row * stride;
            if (packed) {
                for (int c = 0; c < L; c += headDim) {
                    System.arraycopy(q, src, queries, dst + c, headDim);
                }
            } else {
                System.arraycopy(q, src, queries, dst, headDim);
                Arrays.fill(queries, dst + headDim, dst + stride, 0f);
            }
        }
    }

    @Override
    void keys(int kvh, KvCodec keyCodec, MemorySegment keys, long keyOff, int slotBase, int n, int[] positions) {
        VectorMask<Integer> valid = I.indexInRange(0, n);
        IntVector pos = positions == null ? VectorLanes.IOTA.add(slotBase) : IntVector.fromArray(I, positions, slotBase, valid);
        VectorMask<Integer> live = positions == null ? valid : valid.and(pos.compare(VectorOperators.GE, 0));
        seenQueries[kvh] = 0;
        if (!live.anyTrue()) {
            hideFromWeights(kvh, slotBase, n);
            return;
        }
        MemorySegment ks = keys;
        long ko = keyOff;
        if (viaScratch) {
            decode(keyCodec, keys, keyOff, n, keyTile);
            ks = keyScratch;
            ko = 0;
        } else if (readKind == VectorLanes.Q8_0) {
            scales(keys, keyOff, n, keyScales);
        }
        int seen = 0;
        for (int i = 0; i < nq; i++) {
            int qp = firstPosition == Integer.MAX_VALUE ? Integer.MAX_VALUE : firstPosition + i;
            long visible = live.and(pos.compare(VectorOperators.LE, qp)).toLong();
            if (visible == 0) {
                hideFromWeights(kvh, slotBase, n);
                continue;
            }
            seen |= 1 << i;
            int row0 = i * queryHeads + kvh * group;
            for (int g = 0; g < group; g += ROWS) {
                int rows = Math.min(ROWS, group - g);
                int r0 = row0 + g;
                if (packed) {
                    packedScores(ks, ko, r0, rows, n);
                } else if (rows == 1) {
                    if (readKind == VectorLanes.Q8_0) {
                        scores1q8(ks, ko, r0, n);
                    } else {
                        scores1(ks, ko, r0, n);
                    }
                } else if (readKind == VectorLanes.Q8_0) {
                    scores4q8(ks, ko, n, r0, r0 + 1, rows > 2 ? r0 + 2 : dummyRow, rows > 3 ? r0 + 3 : dummyRow);
                } else {
                    scores4(ks, ko, n, r0, r0 + 1, rows > 2 ? r0 + 2 : dummyRow, rows > 3 ? r0 + 3 : dummyRow);
                }
                for (int r = 0; r < rows; r++) {
                    if (packed) {
                        packedButterfly(r * BLOCK);
                    } else if (L == 16) {
                        VectorLanes.firstLevel16(part, r * BLOCK);
                    }
                    rowStep(r0 + r, r * BLOCK, visible, n, slotBase);
                }
            }
        }
        seenQueries[kvh] = seen;
    }

    @Override
    void values(int kvh, KvCodec valueCodec, MemorySegment values, long valueOff, int n) {
        int seen = seenQueries[kvh];
        if (seen == 0) {
            return;
        }
        MemorySegment vs = values;
        long vo = valueOff;
        if (viaScratch) {
            decode(valueCodec, values, valueOff, n, valueTile);
            vs = valueScratch;
            vo = 0;
        } else if (readKind == VectorLanes.Q8_0) {
            scales(values, valueOff, n, valueScales);
        }
        for (int i = 0; i < nq; i++) {
            if ((seen & (1 << i)) == 0) {
                continue;
            }
            int row0 = i * queryHeads + kvh * group;
            if (readKind == VectorLanes.Q8_0) {
                weigh(row0, group);
            }
            for (int g = 0; g < group; g += ROWS) {
                int rows = Math.min(ROWS, group - g);
                int r0 = row0 + g;
                if (packed) {
                    for (int r = 0; r < rows; r++) {
                        packedAccumulate(vs, vo, n, r0 + r);
                    }
                } else if (rows == 1) {
                    if (readKind == VectorLanes.Q8_0) {
                        accumulate1q8(vs, vo, n, r0);
                    } else {
                        accumulate1(vs, vo, n, r0);
                    }
                } else if (readKind == VectorLanes.Q8_0) {
                    accumulate4q8(vs, vo, n, r0, r0 + 1, rows > 2 ? r0 + 2 : dummyRow, rows > 3 ? r0 + 3 : dummyRow);
                } else {
                    accumulate4(vs, vo, n, r0, r0 + 1, rows > 2 ? r0 + 2 : dummyRow, rows > 3 ? r0 + 3 : dummyRow);
                }
            }
        }
    }

    /** Raw scores of minus infinity for the tile's slots in every head of the group (decode weights). */
    private void hideFromWeights(int kvh, int slotBase, int n) {
        if (weights != null) {
            for (int qh = kvh * group; qh < (kvh + 1) * group; qh++) {
                Arrays.fill(weights, qh * weightSlots + slotBase, qh * weightSlots + slotBase + n, Float.NEGATIVE_INFINITY);
            }
        }
    }

    /**
     * Decodes {@code n} slots into a float tile (a {@code float[]}: the codecs' array loops are their
     * fastest), zero-padded per slot when the head is not whole vectors; slot by slot when the head is
     * padded or the slots are not adjacent ({@link #slotStride}).
     */
    private void decode(KvCodec codec, MemorySegment src, long off, int n, float[] tile) {
        if (!padded && slotStride == headBytes) {
            codec.decode(src, off, n * headDim, tile, 0);
            return;
        }
        int slotFloats = (int) (slotBytes / Float.BYTES);
        for (int s = 0; s < n; s++) {
            codec.decode(src, off + s * slotStride, headDim, tile, s * slotFloats);
        }
    }

    /** The fp16 scale of every Q8_0 group of {@code n} slots, as {@code out[group * L + slot]}. */
    private void scales(MemorySegment src, long off, int n, float[] out) {
        for (int s = 0; s < n; s++) {
            for (int g = 0; g < groups; g++) {
                out[g * L + s] = Float.float16ToFloat(src.get(SHORT_LE, off + s * slotBytes + g * 34L));
            }
        }
    }

    /** Q8_0 values: each row's probabilities times each group's value scale, per slot. */
    private void weigh(int row0, int rows) {
        for (int r = row0; r < row0 + rows; r++) {
            FloatVector p = FloatVector.fromArray(F, prob, r * L);
            for (int g = 0; g < groups; g++) {
                p.mul(FloatVector.fromArray(F, valueScales, g * L)).intoArray(weighted, (r * groups + g) * L);
            }
        }
    }

    /**
     * One row's step after its partial vectors are in block {@code at} of {@link #part}: the last
     * butterfly levels (general case: 8 vectors to 1; packed: already done), slot order, scale, the
     * mask ({@code visible}: bit j for slot j) to minus infinity, then the tile folded into the row's
     * online softmax, its probabilities left in {@link #prob}. A leaf too big for C2 to inline (see
     * {@link VectorLanes#firstLevel16}); masks come in as bits, not as (boxable) vector objects.
     */
    private void rowStep(int row, int at, long visible, int n, int slotBase) {
        FloatVector raw;
        if (packed) {
            raw = FloatVector.fromArray(F, part, at);
        } else {
            FloatVector b0 = VectorLanes.fold(FloatVector.fromArray(F, part, at), FloatVector.fromArray(F, part, at + L),
                    VectorLanes.M4, VectorLanes.S4);
            FloatVector b1 = VectorLanes.fold(FloatVector.fromArray(F, part, at + 2 * L), FloatVector.fromArray(F, part, at + 3 * L),
                    VectorLanes.M4, VectorLanes.S4);
            FloatVector b2 = VectorLanes.fold(FloatVector.fromArray(F, part, at + 4 * L), FloatVector.fromArray(F, part, at + 5 * L),
                    VectorLanes.M4, VectorLanes.S4);
            FloatVector b3 = VectorLanes.fold(FloatVector.fromArray(F, part, at + 6 * L), FloatVector.fromArray(F, part, at + 7 * L),
                    VectorLanes.M4, VectorLanes.S4);
            raw = VectorLanes.fold(VectorLanes.fold(b0, b1, VectorLanes.M2, VectorLanes.S2),
                    VectorLanes.fold(b2, b3, VectorLanes.M2, VectorLanes.S2), VectorLanes.M1, VectorLanes.S1);
        }
        FloatVector sc = raw.rearrange(unpermute).mul(scale);
        sc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY).blend(sc, VectorMask.fromLong(F, visible));
        if (weights != null) {
            sc.intoArray(weights, (row % queryHeads) * weightSlots + slotBase, F.indexInRange(0, n));
        }
        float m = max[row];
        // Lazy maximum: the lane reduction runs only when a score exceeds the running maximum (in the
        // first tiles, then rarely); otherwise one compare. The sum stays a vector of lane sums.
        if (sc.compare(VectorOperators.GT, m).anyTrue()) {
            float tileMax = sc.reduceLanes(VectorOperators.MAX);
            if (m != Float.NEGATIVE_INFINITY) {
                float correction = (float) Math.exp(m - tileMax); // one scalar exp per raised maximum
                FloatVector.fromArray(F, sum, row * L).mul(correction).intoArray(sum, row * L);
                int a = row * stride;
                for (int c = 0; c < stride; c += L) {
                    FloatVector.fromArray(F, acc, a + c).mul(correction).intoArray(acc, a + c);
                }
            }
            max[row] = tileMax;
            m = tileMax;
        } else if (m == Float.NEGATIVE_INFINITY) {
            FloatVector.zero(F).intoArray(prob, row * L); // every visible score so far is -inf: adds nothing
            return;
        }
        FloatVector p = sc.sub(m).lanewise(VectorOperators.EXP);
        FloatVector.fromArray(F, sum, row * L).add(p).intoArray(sum, row * L);
        p.intoArray(prob, row * L);
    }

    /**
     * The raw dot products of query rows {@code r0..r3} with the tile's {@code n} keys: one partial
     * vector per (row, slot) into blocks 0..3 of {@link #part}, zero vectors for slots past {@code n}.
     * Works on blocks of four key chunks: the queries of the four rows for those chunks stay in 16
     * registers while the slots stream by, and each key vector is loaded (and widened) once for the four
     * rows. A row index may be {@link #dummyRow} (zero queries) when the group has fewer rows. (Big
     * methods return nothing: a vector returned from a call C2 does not inline would be boxed.)
     */
    private void scores4(MemorySegment ks, long ko, int n, int r0, int r1, int r2, int r3) {
        long chunkBytes = (long) L * Float.BYTES;
        for (int c0 = 0; c0 < chunks; c0 += 4) {
            int cb = Math.min(4, chunks - c0);
            int b0 = r0 * stride + c0 * L;
            int b1 = r1 * stride + c0 * L;
            int b2 = r2 * stride + c0 * L;
            int b3 = r3 * stride + c0 * L;
            FloatVector q00 = FloatVector.fromArray(F, queries, b0);
            FloatVector q10 = FloatVector.fromArray(F, queries, b1);
            FloatVector q20 = FloatVector.fromArray(F, queries, b2);
            FloatVector q30 = FloatVector.fromArray(F, queries, b3);
            FloatVector q01 = cb > 1 ? FloatVector.fromArray(F, queries, b0 + L) : q00;
            FloatVector q11 = cb > 1 ? FloatVector.fromArray(F, queries, b1 + L) : q10;
            FloatVector q21 = cb > 1 ? FloatVector.fromArray(F, queries, b2 + L) : q20;
            FloatVector q31 = cb > 1 ? FloatVector.fromArray(F, queries, b3 + L) : q30;
            FloatVector q02 = cb > 2 ? FloatVector.fromArray(F, queries, b0 + 2 * L) : q00;
            FloatVector q12 = cb > 2 ? FloatVector.fromArray(F, queries, b1 + 2 * L) : q10;
            FloatVector q22 = cb > 2 ? FloatVector.fromArray(F, queries, b2 + 2 * L) : q20;
            FloatVector q32 = cb > 2 ? FloatVector.fromArray(F, queries, b3 + 2 * L) : q30;
            FloatVector q03 = cb > 3 ? FloatVector.fromArray(F, queries, b0 + 3 * L) : q00;
            FloatVector q13 = cb > 3 ? FloatVector.fromArray(F, queries, b1 + 3 * L) : q10;
            FloatVector q23 = cb > 3 ? FloatVector.fromArray(F, queries, b2 + 3 * L) : q20;
            FloatVector q33 = cb > 3 ? FloatVector.fromArray(F, queries, b3 + 3 * L) : q30;
            long base = ko + c0 * chunkBytes;
            for (int s = 0; s < n; s++) {
                long so = base + s * slotBytes;
                FloatVector k = VectorLanes.loadF32(ks, so);
                FloatVector a0 = k.mul(q00);
                FloatVector a1 = k.mul(q10);
                FloatVector a2 = k.mul(q20);
                FloatVector a3 = k.mul(q30);
                if (cb > 1) {
                    k = VectorLanes.loadF32(ks, so + chunkBytes);
                    a0 = k.fma(q01, a0);
                    a1 = k.fma(q11, a1);
                    a2 = k.fma(q21, a2);
                    a3 = k.fma(q31, a3);
                }
                if (cb > 2) {
                    k = VectorLanes.loadF32(ks, so + 2 * chunkBytes);
                    a0 = k.fma(q02, a0);
                    a1 = k.fma(q12, a1);
                    a2 = k.fma(q22, a2);
                    a3 = k.fma(q32, a3);
                }
                if (cb > 3) {
                    k = VectorLanes.loadF32(ks, so + 3 * chunkBytes);
                    a0 = k.fma(q03, a0);
                    a1 = k.fma(q13, a1);
                    a2 = k.fma(q23, a2);
                    a3 = k.fma(q33, a3);
                }
                int at = s * L;
                if (c0 > 0) {
                    a0 = a0.add(FloatVector.fromArray(F, part, at));
                    a1 = a1.add(FloatVector.fromArray(F, part, BLOCK + at));
                    a2 = a2.add(FloatVector.fromArray(F, part, 2 * BLOCK + at));
                    a3 = a3.add(FloatVector.fromArray(F, part, 3 * BLOCK + at));
                }
                a0.intoArray(part, at);
                a1.intoArray(part, BLOCK + at);
                a2.intoArray(part, 2 * BLOCK + at);
                a3.intoArray(part, 3 * BLOCK + at);
            }
        }
        zeroPast(n, ROWS);
    }

    /**
     * {@link #scores4} for Q8_0 keys in integer form: per 32-value group, the int8 codes times the fp32
     * queries, then times the group's fp16 scale. Blocks of four chunks as in {@link #scores4} (two
     * groups with 16 lanes, one with 8), so the sixteen query vectors stay in registers.
     */
    private void scores4q8(MemorySegment ks, long ko, int n, int r0, int r1, int r2, int r3) {
        for (int c0 = 0; c0 < chunks; c0 += 4) {
            int cb = Math.min(4, chunks - c0); // 2 or 4: a head is whole groups
            int b0 = r0 * stride + c0 * L;
            int b1 = r1 * stride + c0 * L;
            int b2 = r2 * stride + c0 * L;
            int b3 = r3 * stride + c0 * L;
            FloatVector q00 = FloatVector.fromArray(F, queries, b0);
            FloatVector q10 = FloatVector.fromArray(F, queries, b1);
            FloatVector q20 = FloatVector.fromArray(F, queries, b2);
            FloatVector q30 = FloatVector.fromArray(F, queries, b3);
            FloatVector q01 = FloatVector.fromArray(F, queries, b0 + L);
            FloatVector q11 = FloatVector.fromArray(F, queries, b1 + L);
            FloatVector q21 = FloatVector.fromArray(F, queries, b2 + L);
            FloatVector q31 = FloatVector.fromArray(F, queries, b3 + L);
            FloatVector q02 = cb > 2 ? FloatVector.fromArray(F, queries, b0 + 2 * L) : q00;
            FloatVector q12 = cb > 2 ? FloatVector.fromArray(F, queries, b1 + 2 * L) : q10;
            FloatVector q22 = cb > 2 ? FloatVector.fromArray(F, queries, b2 + 2 * L) : q20;
            FloatVector q32 = cb > 2 ? FloatVector.fromArray(F, queries, b3 + 2 * L) : q30;
            FloatVector q03 = cb > 2 ? FloatVector.fromArray(F, queries, b0 + 3 * L) : q00;
            FloatVector q13 = cb > 2 ? FloatVector.fromArray(F, queries, b1 + 3 * L) : q10;
            FloatVector q23 = cb > 2 ? FloatVector.fromArray(F, queries, b2 + 3 * L) : q20;
            FloatVector q33 = cb > 2 ? FloatVector.fromArray(F, queries, b3 + 3 * L) : q30;
            int g0 = c0 / chunksPerGroup;
            // byte offsets of the block's four chunks of codes inside a slot
            long o0 = g0 * 34L + 2;
            long o1 = o0 + L;
            long o2 = L == 16 ? o0 + 34 : o0 + 2 * L;
            long o3 = o2 + L;
            int d0 = g0 * L;
            int d1 = L == 16 ? d0 + L : d0;
            for (int s = 0; s < n; s++) {
                long so = ko + s * slotBytes;
                FloatVector k = VectorLanes.loadQ8(ks, so + o0);
                FloatVector a0 = k.mul(q00);
                FloatVector a1 = k.mul(q10);
                FloatVector a2 = k.mul(q20);
                FloatVector a3 = k.mul(q30);
                k = VectorLanes.loadQ8(ks, so + o1);
                a0 = k.fma(q01, a0);
                a1 = k.fma(q11, a1);
                a2 = k.fma(q21, a2);
                a3 = k.fma(q31, a3);
                if (L == 16) {
                    FloatVector d = FloatVector.broadcast(F, keyScales[d0 + s]);
                    a0 = a0.mul(d);
                    a1 = a1.mul(d);
                    a2 = a2.mul(d);
                    a3 = a3.mul(d);
                }
                if (cb > 2) {
                    k = VectorLanes.loadQ8(ks, so + o2);
                    FloatVector e0 = k.mul(q02);
                    FloatVector e1 = k.mul(q12);
                    FloatVector e2 = k.mul(q22);
                    FloatVector e3 = k.mul(q32);
                    k = VectorLanes.loadQ8(ks, so + o3);
                    e0 = k.fma(q03, e0);
                    e1 = k.fma(q13, e1);
                    e2 = k.fma(q23, e2);
                    e3 = k.fma(q33, e3);
                    if (L == 16) {
                        FloatVector d = FloatVector.broadcast(F, keyScales[d1 + s]);
                        a0 = e0.fma(d, a0);
                        a1 = e1.fma(d, a1);
                        a2 = e2.fma(d, a2);
                        a3 = e3.fma(d, a3);
                    } else {
                        FloatVector d = FloatVector.broadcast(F, keyScales[d0 + s]);
                        a0 = a0.add(e0).mul(d);
                        a1 = a1.add(e1).mul(d);
                        a2 = a2.add(e2).mul(d);
                        a3 = a3.add(e3).mul(d);
                    }
                }
                int at = s * L;
                if (c0 > 0) {
                    a0 = a0.add(FloatVector.fromArray(F, part, at));
                    a1 = a1.add(FloatVector.fromArray(F, part, BLOCK + at));
                    a2 = a2.add(FloatVector.fromArray(F, part, 2 * BLOCK + at));
                    a3 = a3.add(FloatVector.fromArray(F, part, 3 * BLOCK + at));
                }
                a0.intoArray(part, at);
                a1.intoArray(part, BLOCK + at);
                a2.intoArray(part, 2 * BLOCK + at);
                a3.intoArray(part, 3 * BLOCK + at);
            }
        }
        zeroPast(n, ROWS);
    }

    /** One row's raw dot products (multi-head attention), F32 keys, into block 0 of {@link #part}. */
    private void scores1(MemorySegment ks, long ko, int row, int n) {
        int q0 = row * stride;
        for (int s = 0; s < n; s++) {
            long so = ko + s * slotBytes;
            FloatVector a = FloatVector.zero(F);
            for (int c = 0; c < chunks; c++) {
                a = VectorLanes.loadF32(ks, so + (long) c * L * Float.BYTES).fma(FloatVector.fromArray(F, queries, q0 + c * L), a);
            }
            a.intoArray(part, s * L);
        }
        zeroPast(n, 1);
    }

    /** {@link #scores1} for Q8_0 keys in integer form. */
    private void scores1q8(MemorySegment ks, long ko, int row, int n) {
        int q0 = row * stride;
        for (int s = 0; s < n; s++) {
            long so = ko + s * slotBytes;
            FloatVector a = FloatVector.zero(F);
            for (int g = 0, c = 0; g < groups; g++) {
                FloatVector gs = FloatVector.zero(F);
                for (int e = c + chunksPerGroup; c < e; c++) {
                    gs = VectorLanes.loadQ8(ks, so + chunkOff[c]).fma(FloatVector.fromArray(F, queries, q0 + c * L), gs);
                }
                a = gs.fma(FloatVector.broadcast(F, keyScales[g * L + s]), a);
            }
            a.intoArray(part, s * L);
        }
        zeroPast(n, 1);
    }

    /** Zero partial vectors for slots {@code n..L-1} of the first {@code blocks} blocks of {@link #part}. */
    private void zeroPast(int n, int blocks) {
        if (n < L) {
            for (int b = 0; b < blocks * BLOCK; b += BLOCK) {
                Arrays.fill(part, b + n * L, b + BLOCK, 0f);
            }
        }
    }

    /** Head dims dividing {@code L}: {@code L / headDim} slots per vector of the (F32) tile, against the repeated query. */
    private void packedScores(MemorySegment ks, long ko, int row, int rows, int n) {
        int floats = n * headDim;
        for (int r = 0; r < rows; r++) {
            FloatVector qv = FloatVector.fromArray(F, queries, (row + r) * stride);
            int b = r * BLOCK;
            int k = 0;
            for (; (k + 1) * L <= floats; k++) {
                FloatVector.fromMemorySegment(F, ks, ko + (long) k * L * Float.BYTES, VectorLanes.LE).mul(qv).intoArray(part, b + k * L);
            }
            if (k * L < floats) {
                VectorMask<Float> m = F.indexInRange(k * L, floats);
                FloatVector.fromMemorySegment(F, ks, ko + (long) k * L * Float.BYTES, VectorLanes.LE, m).mul(qv)
                        .intoArray(part, b + k * L);
                k++;
            }
            if (k < packedVectors) {
                Arrays.fill(part, b + k * L, b + packedVectors * L, 0f);
            }
        }
    }

    /** The butterfly of the packed case: {@code headDim} vectors, levels {@code headDim/2 .. 1}. */
    private void packedButterfly(int b) {
        int count = packedVectors;
        for (int h = count / 2; h >= 1; h >>= 1) {
            VectorMask<Float> m = h == 8 ? VectorLanes.M8 : h == 4 ? VectorLanes.M4 : h == 2 ? VectorLanes.M2 : VectorLanes.M1;
            VectorShuffle<Float> sw = h == 8 ? VectorLanes.S8 : h == 4 ? VectorLanes.S4 : h == 2 ? VectorLanes.S2 : VectorLanes.S1;
            int half = count >> 1;
            for (int j = 0; j < half; j++) {
                VectorLanes.fold(FloatVector.fromArray(F, part, b + 2 * j * L), FloatVector.fromArray(F, part, b + (2 * j + 1) * L),
                        m, sw).intoArray(part, b + j * L);
            }
            count = half;
        }
    }

    /**
     * Adds the tile's values weighted by the probabilities of rows {@code r0..r3} (Q8_0: times the
     * group's value scale) to their accumulators, four value chunks at a time: the sixteen accumulators
     * stay in registers while the slots stream by, each value vector is loaded (and widened) once for the
     * four rows, each row's weight broadcast once per slot. A row may be {@link #dummyRow}.
     */
    private void accumulate4(MemorySegment vs, long vo, int n, int r0, int r1, int r2, int r3) {
        boolean q8 = false;
        float[] w = q8 ? weighted : prob;
        int rowStep = q8 ? groups * L : L;
        int elementBytes = Float.BYTES;
        for (int c0 = 0; c0 < chunks; c0 += 4) {
            int cb = Math.min(4, chunks - c0);
            int a0 = r0 * stride + c0 * L;
            int a1 = r1 * stride + c0 * L;
            int a2 = r2 * stride + c0 * L;
            int a3 = r3 * stride + c0 * L;
            FloatVector s00 = FloatVector.fromArray(F, acc, a0);
            FloatVector s10 = FloatVector.fromArray(F, acc, a1);
            FloatVector s20 = FloatVector.fromArray(F, acc, a2);
            FloatVector s30 = FloatVector.fromArray(F, acc, a3);
            FloatVector s01 = cb > 1 ? FloatVector.fromArray(F, acc, a0 + L) : s00;
            FloatVector s11 = cb > 1 ? FloatVector.fromArray(F, acc, a1 + L) : s10;
            FloatVector s21 = cb > 1 ? FloatVector.fromArray(F, acc, a2 + L) : s20;
            FloatVector s31 = cb > 1 ? FloatVector.fromArray(F, acc, a3 + L) : s30;
            FloatVector s02 = cb > 2 ? FloatVector.fromArray(F, acc, a0 + 2 * L) : s00;
            FloatVector s12 = cb > 2 ? FloatVector.fromArray(F, acc, a1 + 2 * L) : s10;
            FloatVector s22 = cb > 2 ? FloatVector.fromArray(F, acc, a2 + 2 * L) : s20;
            FloatVector s32 = cb > 2 ? FloatVector.fromArray(F, acc, a3 + 2 * L) : s30;
            FloatVector s03 = cb > 3 ? FloatVector.fromArray(F, acc, a0 + 3 * L) : s00;
            FloatVector s13 = cb > 3 ? FloatVector.fromArray(F, acc, a1 + 3 * L) : s10;
            FloatVector s23 = cb > 3 ? FloatVector.fromArray(F, acc, a2 + 3 * L) : s20;
            FloatVector s33 = cb > 3 ? FloatVector.fromArray(F, acc, a3 + 3 * L) : s30;
            // Q8_0: the weights of chunk c come from its group; chunks c0, c0+1 share one (16 lanes), c0+2, c0+3 the next.
            int gA = q8 ? (c0 / chunksPerGroup) * L : 0;
            int gB = q8 ? ((c0 + cb - 1) / chunksPerGroup) * L : 0;
            int w0 = r0 * rowStep;
            int w1 = r1 * rowStep;
            int w2 = r2 * rowStep;
            int w3 = r3 * rowStep;
            long off = vo + (q8 ? (c0 / chunksPerGroup) * 34L + 2 : (long) c0 * L * elementBytes);
            long step = (long) L * elementBytes;
            long groupJump = q8 && L == 16 ? 34L - 2 * L : 0; // from the end of a group's codes to the next group's codes
            for (int s = 0; s < n; s++) {
                long so = off + s * slotBytes;
                FloatVector p0 = FloatVector.broadcast(F, w[w0 + gA + s]);
                FloatVector p1 = FloatVector.broadcast(F, w[w1 + gA + s]);
                FloatVector p2 = FloatVector.broadcast(F, w[w2 + gA + s]);
                FloatVector p3 = FloatVector.broadcast(F, w[w3 + gA + s]);
                FloatVector v = VectorLanes.loadF32(vs, so);
                s00 = v.fma(p0, s00);
                s10 = v.fma(p1, s10);
                s20 = v.fma(p2, s20);
                s30 = v.fma(p3, s30);
                if (cb > 1) {
                    v = VectorLanes.loadF32(vs, so + step);
                    s01 = v.fma(p0, s01);
                    s11 = v.fma(p1, s11);
                    s21 = v.fma(p2, s21);
                    s31 = v.fma(p3, s31);
                }
                if (cb > 2) {
                    if (gB != gA) {
                        p0 = FloatVector.broadcast(F, w[w0 + gB + s]);
                        p1 = FloatVector.broadcast(F, w[w1 + gB + s]);
                        p2 = FloatVector.broadcast(F, w[w2 + gB + s]);
                        p3 = FloatVector.broadcast(F, w[w3 + gB + s]);
                    }
                    v = VectorLanes.loadF32(vs, so + 2 * step + groupJump);
                    s02 = v.fma(p0, s02);
                    s12 = v.fma(p1, s12);
                    s22 = v.fma(p2, s22);
                    s32 = v.fma(p3, s32);
                }
                if (cb > 3) {
                    v = VectorLanes.loadF32(vs, so + 3 * step + groupJump);
                    s03 = v.fma(p0, s03);
                    s13 = v.fma(p1, s13);
                    s23 = v.fma(p2, s23);
                    s33 = v.fma(p3, s33);
                }
            }
            s00.intoArray(acc, a0);
            s10.intoArray(acc, a1);
            s20.intoArray(acc, a2);
            s30.intoArray(acc, a3);
            if (cb > 1) {
                s01.intoArray(acc, a0 + L);
                s11.intoArray(acc, a1 + L);
                s21.intoArray(acc, a2 + L);
                s31.intoArray(acc, a3 + L);
            }
            if (cb > 2) {
                s02.intoArray(acc, a0 + 2 * L);
                s12.intoArray(acc, a1 + 2 * L);
                s22.intoArray(acc, a2 + 2 * L);
                s32.intoArray(acc, a3 + 2 * L);
            }
            if (cb > 3) {
                s03.intoArray(acc, a0 + 3 * L);
                s13.intoArray(acc, a1 + 3 * L);
                s23.intoArray(acc, a2 + 3 * L);
                s33.intoArray(acc, a3 + 3 * L);
            }
        }
    }

    /**
     * {@link #accumulate4} for Q8_0 values: their codes, weighted by the probabilities times the group's
     * value scale ({@link #weigh}). Adds the tile's values weighted by the probabilities of rows {@code r0..r3} (Q8_0: times the
     * group's value scale) to their accumulators, four value chunks at a time: the sixteen accumulators
     * stay in registers while the slots stream by, each value vector is loaded (and widened) once for the
     * four rows, each row's weight broadcast once per slot. A row may be {@link #dummyRow}.
     */
    private void accumulate4q8(MemorySegment vs, long vo, int n, int r0, int r1, int r2, int r3) {
        boolean q8 = true;
        float[] w = q8 ? weighted : prob;
        int rowStep = q8 ? groups * L : L;
        int elementBytes = 1;
        for (int c0 = 0; c0 < chunks; c0 += 4) {
            int cb = Math.min(4, chunks - c0);
            int a0 = r0 * stride + c0 * L;
            int a1 = r1 * stride + c0 * L;
            int a2 = r2 * stride + c0 * L;
            int a3 = r3 * stride + c0 * L;
            FloatVector s00 = FloatVector.fromArray(F, acc, a0);
            FloatVector s10 = FloatVector.fromArray(F, acc, a1);
            FloatVector s20 = FloatVector.fromArray(F, acc, a2);
            FloatVector s30 = FloatVector.fromArray(F, acc, a3);
            FloatVector s01 = cb > 1 ? FloatVector.fromArray(F, acc, a0 + L) : s00;
            FloatVector s11 = cb > 1 ? FloatVector.fromArray(F, acc, a1 + L) : s10;
            FloatVector s21 = cb > 1 ? FloatVector.fromArray(F, acc, a2 + L) : s20;
            FloatVector s31 = cb > 1 ? FloatVector.fromArray(F, acc, a3 + L) : s30;
            FloatVector s02 = cb > 2 ? FloatVector.fromArray(F, acc, a0 + 2 * L) : s00;
            FloatVector s12 = cb > 2 ? FloatVector.fromArray(F, acc, a1 + 2 * L) : s10;
            FloatVector s22 = cb > 2 ? FloatVector.fromArray(F, acc, a2 + 2 * L) : s20;
            FloatVector s32 = cb > 2 ? FloatVector.fromArray(F, acc, a3 + 2 * L) : s30;
            FloatVector s03 = cb > 3 ? FloatVector.fromArray(F, acc, a0 + 3 * L) : s00;
            FloatVector s13 = cb > 3 ? FloatVector.fromArray(F, acc, a1 + 3 * L) : s10;
            FloatVector s23 = cb > 3 ? FloatVector.fromArray(F, acc, a2 + 3 * L) : s20;
            FloatVector s33 = cb > 3 ? FloatVector.fromArray(F, acc, a3 + 3 * L) : s30;
            // Q8_0: the weights of chunk c come from its group; chunks c0, c0+1 share one (16 lanes), c0+2, c0+3 the next.
            int gA = q8 ? (c0 / chunksPerGroup) * L : 0;
            int gB = q8 ? ((c0 + cb - 1) / chunksPerGroup) * L : 0;
            int w0 = r0 * rowStep;
            int w1 = r1 * rowStep;
            int w2 = r2 * rowStep;
            int w3 = r3 * rowStep;
            long off = vo + (q8 ? (c0 / chunksPerGroup) * 34L + 2 : (long) c0 * L * elementBytes);
            long step = (long) L * elementBytes;
            long groupJump = q8 && L == 16 ? 34L - 2 * L : 0; // from the end of a group's codes to the next group's codes
            for (int s = 0; s < n; s++) {
                long so = off + s * slotBytes;
                FloatVector p0 = FloatVector.broadcast(F, w[w0 + gA + s]);
                FloatVector p1 = FloatVector.broadcast(F, w[w1 + gA + s]);
                FloatVector p2 = FloatVector.broadcast(F, w[w2 + gA + s]);
                FloatVector p3 = FloatVector.broadcast(F, w[w3 + gA + s]);
                FloatVector v = VectorLanes.loadQ8(vs, so);
                s00 = v.fma(p0, s00);
                s10 = v.fma(p1, s10);
                s20 = v.fma(p2, s20);
                s30 = v.fma(p3, s30);
                if (cb > 1) {
                    v = VectorLanes.loadQ8(vs, so + step);
                    s01 = v.fma(p0, s01);
                    s11 = v.fma(p1, s11);
                    s21 = v.fma(p2, s21);
                    s31 = v.fma(p3, s31);
                }
                if (cb > 2) {
                    if (gB != gA) {
                        p0 = FloatVector.broadcast(F, w[w0 + gB + s]);
                        p1 = FloatVector.broadcast(F, w[w1 + gB + s]);
                        p2 = FloatVector.broadcast(F, w[w2 + gB + s]);
                        p3 = FloatVector.broadcast(F, w[w3 + gB + s]);
                    }
                    v = VectorLanes.loadQ8(vs, so + 2 * step + groupJump);
                    s02 = v.fma(p0, s02);
                    s12 = v.fma(p1, s12);
                    s22 = v.fma(p2, s22);
                    s32 = v.fma(p3, s32);
                }
                if (cb > 3) {
                    v = VectorLanes.loadQ8(vs, so + 3 * step + groupJump);
                    s03 = v.fma(p0, s03);
                    s13 = v.fma(p1, s13);
                    s23 = v.fma(p2, s23);
                    s33 = v.fma(p3, s33);
                }
            }
            s00.intoArray(acc, a0);
            s10.intoArray(acc, a1);
            s20.intoArray(acc, a2);
            s30.intoArray(acc, a3);
            if (cb > 1) {
                s01.intoArray(acc, a0 + L);
                s11.intoArray(acc, a1 + L);
                s21.intoArray(acc, a2 + L);
                s31.intoArray(acc, a3 + L);
            }
            if (cb > 2) {
                s02.intoArray(acc, a0 + 2 * L);
                s12.intoArray(acc, a1 + 2 * L);
                s22.intoArray(acc, a2 + 2 * L);
                s32.intoArray(acc, a3 + 2 * L);
            }
            if (cb > 3) {
                s03.intoArray(acc, a0 + 3 * L);
                s13.intoArray(acc, a1 + 3 * L);
                s23.intoArray(acc, a2 + 3 * L);
                s33.intoArray(acc, a3 + 3 * L);
            }
        }
    }

    /** {@link #accumulate4} for one row (multi-head attention). */
    private void accumulate1(MemorySegment vs, long vo, int n, int row) {
        for (int c = 0; c < chunks; c++) {
            int a = row * stride + c * L;
            FloatVector s0 = FloatVector.fromArray(F, acc, a);
            long off = vo + (long) c * L * Float.BYTES;
            for (int s = 0; s < n; s++) {
                s0 = VectorLanes.loadF32(vs, off + s * slotBytes).fma(FloatVector.broadcast(F, prob[row * L + s]), s0);
            }
            s0.intoArray(acc, a);
        }
    }

    /** {@link #accumulate4q8} for one row. */
    private void accumulate1q8(MemorySegment vs, long vo, int n, int row) {
        for (int c = 0; c < chunks; c++) {
            int w0 = (row * groups + c / chunksPerGroup) * L;
            int a = row * stride + c * L;
            FloatVector s0 = FloatVector.fromArray(F, acc, a);
            long off = vo + chunkOff[c];
            for (int s = 0; s < n; s++) {
                s0 = VectorLanes.loadQ8(vs, off + s * slotBytes).fma(FloatVector.broadcast(F, weighted[w0 + s]), s0);
            }
            s0.intoArray(acc, a);
        }
    }

    /** Head dims dividing {@code L}: a vector of slots at a time, the probabilities spread over each slot's lanes. */
    private void packedAccumulate(MemorySegment vs, long vo, int n, int row) {
        FloatVector total = FloatVector.fromArray(F, acc, row * stride);
        int floats = n * headDim;
        int k = 0;
        for (; (k + 1) * L <= floats; k++) {
            FloatVector v = FloatVector.fromMemorySegment(F, vs, vo + (long) k * L * Float.BYTES, VectorLanes.LE);
            total = v.fma(FloatVector.fromArray(F, prob, row * L, spread, k * L), total);
        }
        if (k * L < floats) {
            VectorMask<Float> m = F.indexInRange(k * L, floats);
            FloatVector v = FloatVector.fromMemorySegment(F, vs, vo + (long) k * L * Float.BYTES, VectorLanes.LE, m);
            total = v.fma(FloatVector.fromArray(F, prob, row * L, spread, k * L), total);
        }
        total.intoArray(acc, row * stride);
    }

    @Override
    void finish(float[] out, int outOff) {
        for (int row = 0; row < nq * queryHeads; row++) {
            float l = FloatVector.fromArray(F, sum, row * L).reduceLanes(VectorOperators.ADD);
            float inv = l > 0f ? 1f / l : 0f;
            int o = outOff + row * headDim;
            int a = row * stride;
            if (packed) {
                for (int d = 0; d < headDim; d++) {
                    float t = 0f;
                    for (int c = d; c < L; c += headDim) {
                        t += acc[a + c];
                    }
                    out[o + d] = t * inv;
                }
            } else {
                for (int d = 0; d < headDim; d++) {
                    out[o + d] = acc[a + d] * inv;
                }
            }
            if (weights != null) {
                normaliseWeights(row * weightSlots, max[row], l > 0f, inv);
            }
        }
        weights = null;
    }

    private void normaliseWeights(int from, float m, boolean any, float inv) {
        int t = 0;
        int to = from + weightSlots;
        if (!any) {
            Arrays.fill(weights, from, to, 0f);
            return;
        }
        for (; t + L <= weightSlots; t += L) {
            FloatVector.fromArray(F, weights, from + t).sub(m).lanewise(VectorOperators.EXP).mul(inv)
                    .intoArray(weights, from + t);
        }
        for (int i = from + t; i < to; i++) {
            weights[i] = (float) Math.exp(weights[i] - m) * inv;
        }
    }

    @Override
    String loops() {
        return "vector(" + L + " lanes" + (viaScratch ? ", decoded tiles" : "") + ")";
    }
}
