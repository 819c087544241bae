package io.pagedkv.eviction;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PoolExhaustedException;
import io.pagedkv.cache.Sequence;
import io.pagedkv.cache.SlotMoveListener;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A paged sequence under an {@link EvictionPolicy}: the one object an engine drives, so that the
 * policy and the cache can never disagree.
 *
 * <p>It owns an {@link EvictingSequence} (not handed out) and the policy, and it is the only write
 * path: {@link #write(int, int, float[], float[])} stores a token's K/V by position and shows the keys
 * and values to the policy if it uses them; {@link #query} and {@link #attention} forward the step's
 * queries and attention rows; every slot renumbering reaches the policy's {@code onMove}.
 *
 * <p><b>Step order: evict, then place.</b> {@link #append(int)} first asks the policy for the victims
 * that make room for one token (they become holes; with a quantum > 1, blocks that emptied are
 * released at once), then places the token (in a victim's slot). The cache therefore never holds
 * more tokens than the budget, and the decision is made with the last step's attention, which covered
 * every kept token. A prompt goes in whole with {@link #prefill(int[], int, int)} (no eviction: its
 * attention needs every prompt token), then {@link #compress()} evicts to the budget, releases the
 * blocks that emptied (no copy) and tail-fills the rest.
 *
 * <pre>{@code
 * try (SequenceEvictor ev = new SequenceEvictor(cache.openSequence(), new HeavyHitters(64, 32, SUM))) {
 *     int pos = ev.append(tokenId);                         // evicts first, then places
 *     ev.write(layer, pos, k, v);                           // by position; keys reach the policy
 *     ev.attention(layer, head, weights, 0);                // weights over ev.slots() slots
 * }
 * }</pre>
 *
 * <p><b>Forks.</b> {@link #fork()} forks the sequence (blocks shared, copy-on-write) and copies the
 * policy with its state ({@link EvictionPolicy#copy()}): a beam or a parallel sample keeps its
 * parent's scores and then evolves on its own.
 *
 * <p><b>Failure.</b> If {@link #append(int)} cannot place the token for want of blocks (a hole's block
 * is shared with a fork and must be copied), it throws {@link PoolExhaustedException} after the
 * evictions it made: the policy and the sequence still agree, the token is not placed. {@link
 * #compress()} throws the same way before moving anything. Nothing allocates per token once the
 * victim buffer has grown. Not thread-safe, like both halves.
 */
public final class SequenceEvictor implements AutoCloseable {

    private final EvictingSequence seq;
    private final EvictionPolicy policy;
    private final SlotMoveListener toPolicy;
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final float[] scratch;
    private int[] victims;
    private long tokensEvicted;
    private long blocksFreed;
    private long blocksReleased;
    private long slotMoves;
    private long keysRerotated;
    /** The angles of the last re-rotation shift ({@link #rerotateKey}), reused while the shift repeats. */
    private final float[] ropeCos;
    private final float[] ropeSin;
    private int ropeDelta;
    private double ropeTheta = Double.NaN;

    /**
     * Binds a fresh {@code policy} to {@code seq} (an empty sequence or a prefix-cache hit, owned from
     * now on): the hit's tokens are shown to the policy as appended, in slot order, with their keys
     * and values read back from the cache if the policy uses them.
     *
     * @throws IllegalArgumentException if either is null, the policy has seen tokens, a quantum above
     *     1 is not a multiple of the block size, or {@code seq} is neither empty nor a prefix hit
     */
    public SequenceEvictor(Sequence seq, EvictionPolicy policy) {
        if (seq == null || policy == null) {
            throw new IllegalArgumentException("seq, policy: " + seq + ", " + policy + " (expected: non-null)");
        }
        if (policy.liveTokens() != 0 || policy.appended() != 0) {
            throw new IllegalArgumentException("policy: " + policy.name() + " has seen " + policy.appended()
                    + " tokens (expected: a fresh policy; fork() carries a policy to a forked sequence)");
        }
        CacheLayout layout = seq.cache().layout();
        int q = policy.quantum();
        if (q > 1 && q % layout.blockSize() != 0) {
            throw new IllegalArgumentException("quantum: " + q + " (expected: 1, or a multiple of the block size "
                    + layout.blockSize() + " so that evicted quanta can empty whole blocks)");
        }
        this.seq = new EvictingSequence(seq);
        this.policy = policy;
        this.toPolicy = policy::onMove;
        this.layers = layout.shape().layers();
        this.kvHeads = layout.shape().kvHeads();
        this.headDim = layout.shape().headDim();
        this.scratch = new float[kvHeads * headDim];
        this.ropeCos = new float[headDim / 2 + 1];
        this.ropeSin = new float[headDim / 2 + 1];
        this.victims = new int[Math.max(16, policy.budget().minTokens() + q)];
        showPrefixHit();
    }

    private SequenceEvictor(EvictingSequence seq, EvictionPolicy policy, SequenceEvictor parent) {
        this.seq = seq;
        this.policy = policy;
        this.toPolicy = policy::onMove;
        this.layers = parent.layers;
        this.kvHeads = parent.kvHeads;
        this.headDim = parent.headDim;
        this.scratch = new float[parent.scratch.length];
        this.ropeCos = new float[parent.ropeCos.length];
        this.ropeSin = new float[parent.ropeSin.length];
        this.victims = new int[parent.victims.length];
        this.tokensEvicted = parent.tokensEvicted;
        this.blocksFreed = parent.blocksFreed;
        this.blocksReleased = parent.blocksReleased;
        this.slotMoves = parent.slotMoves;
    }

    private void showPrefixHit() {
        int n = seq.slots();
        for (int s = 0; s < n; s++) {
            policy.onAppend(s, seq.positionOf(s));
        }
        if (!policy.usesKeys() && !policy.usesValues()) {
            return;
        }
        for (int s = 0; s < n; s++) {
            int pos = seq.positionOf(s);
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < kvHeads; h++) {
                    if (policy.usesKeys()) {
                        seq.readKey(l, h, pos, scratch, 0);
                        policy.onKey(l, h, s, scratch, 0, headDim);
                    }
                    if (policy.usesValues()) {
                        seq.readValue(l, h, pos, scratch, 0);
                        policy.onValue(l, h, s, scratch, 0, headDim);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // placing and evicting

    /**
     * A decode step's placement: evicts what the policy picks to make room for one token, then places
     * the token with id {@code tokenId} (in a victim's slot first); returns its position.
     *
     * @throws PoolExhaustedException if the token cannot be placed (the evictions stand)
     */
    public int append(int tokenId) {
        makeRoom(1);
        int pos = seq.append(tokenId);
        policy.onAppend(seq.slotOf(pos), pos);
        return pos;
    }

    /**
     * Like {@link #append(int)}, but answers {@link EvictingSequence#NO_POSITION} instead of throwing
     * when the pool is short (the evictions stand).
     */
    public int tryAppend(int tokenId) {
        makeRoom(1);
        int pos = seq.tryAppend(tokenId);
        if (pos != EvictingSequence.NO_POSITION) {
            policy.onAppend(seq.slotOf(pos), pos);
        }
        return pos;
    }

    /** Like {@link #append(int)} for a token without an id (nothing for the prefix cache). */
    public int appendWithoutId() {
        makeRoom(1);
        int pos = seq.appendWithoutIds(1);
        policy.onAppend(seq.slotOf(pos), pos);
        return pos;
    }

    /**
     * Places a prompt chunk of {@code n} tokens with ids {@code tokenIds[off .. off + n)}, all or none,
     * with no eviction (the chunk's attention needs all of it); returns the first position. Call
     * {@link #compress()} once its K/V and attention are in.
     *
     * @throws PoolExhaustedException (nothing changed) if the pool is short
     */
    public int prefill(int[] tokenIds, int off, int n) {
        int first = seq.appendTokens(tokenIds, off, n);
        showPlaced(first, n);
        return first;
    }

    /** Like {@link #prefill(int[], int, int)} for {@code n} tokens without ids. */
    public int prefillWithoutIds(int n) {
        int first = seq.appendWithoutIds(n);
        showPlaced(first, n);
        return first;
    }

    /**
     * A prompt chunk under the budget: evicts what the policy picks so that {@code n} more tokens fit,
     * then places the tokens with ids {@code tokenIds[off .. off + n)} (holes first) and returns the
     * first one's position. So a prompt longer than the budget streams through a cache that never
     * holds more than the budget: place a chunk, write its K/V, attend it (causal by position), show
     * the policy what it uses, repeat. {@code n} must not exceed {@link #maxIncoming()}.
     *
     * @throws IllegalArgumentException (nothing changed) if {@code n <= 0}, the range is outside the
     *     array, or {@code n > maxIncoming()}
     * @throws PoolExhaustedException if the tokens cannot be placed (the evictions stand)
     */
    public int appendChunk(int[] tokenIds, int off, int n) {
        if (tokenIds == null || off < 0 || off > tokenIds.length - n) {
            throw new IllegalArgumentException("tokenIds range: off " + off + ", n " + n + " of length "
                    + (tokenIds == null ? "null" : tokenIds.length) + " (expected: 0 <= off <= length - n)");
        }
        checkChunk(n);
        makeRoom(n);
        return prefill(tokenIds, off, n);
    }

    /** Like {@link #appendChunk(int[], int, int)} for {@code n} tokens without ids. */
    public int appendChunkWithoutIds(int n) {
        checkChunk(n);
        makeRoom(n);
        return prefillWithoutIds(n);
    }

    private void checkChunk(int n) {
        int most = policy.maxIncoming();
        if (n <= 0 || n > most) {
            throw new IllegalArgumentException("n: " + n + " (expected: 1 <= n <= maxIncoming " + most + " of "
                    + policy.name() + " with " + policy.liveTokens() + " tokens kept)");
        }
    }

    /**
     * The most tokens one {@link #appendChunk} (or {@link #makeRoom}) can take now: the policy's
     * {@link EvictionPolicy#maxIncoming()}, at least 1.
     */
    public int maxIncoming() {
        return policy.maxIncoming();
    }

    private void showPlaced(int first, int n) {
        for (int p = first; p < first + n; p++) {
            policy.onAppend(seq.slotOf(p), p);
        }
    }

    /**
     * Evicts what the policy picks so that {@code incoming} more tokens fit in the budget; with a
     * quantum above 1 releases the blocks that emptied (no copy). Returns the tokens evicted.
     * {@link #append(int)} calls it with 1.
     */
    public int makeRoom(int incoming) {
        int pending = policy.pendingEvictions(incoming);
        if (pending > victims.length) {
            victims = new int[Math.max(pending, victims.length * 2)];
        }
        int n = policy.evict(incoming, victims);
        for (int i = 0; i < n; i++) {
            seq.evict(victims[i]);
        }
        tokensEvicted += n;
        if (n > 0 && policy.quantum() > 1) {
            release();
        }
        return n;
    }

    /**
     * Compresses to the budget after a prefill: evicts what the policy picks, releases every block that
     * holds only holes (no copy), then tail-fills the remaining holes (at most one slot move per hole)
     * and frees the trailing blocks. Returns the tokens evicted.
     *
     * @throws PoolExhaustedException before moving anything if the moves need copy-on-write blocks the
     *     pool does not have (the evictions stand; the holes stay)
     */
    public int compress() {
        int n = makeRoom(0);
        compact();
        return n;
    }

    /**
     * Releases the all-hole blocks, then tail-fills the remaining holes; returns the slot moves.
     *
     * @throws PoolExhaustedException before moving anything if the pool lacks the copy-on-write blocks
     */
    public int compact() {
        release();
        int before = seq.blockCount();
        int moves = seq.compact(toPolicy);
        blocksFreed += before - seq.blockCount();
        slotMoves += moves;
        return moves;
    }

    private void release() {
        int released = seq.releaseEmptyBlocks(toPolicy);
        blocksReleased += released;
        blocksFreed += released;
    }

    // ---------------------------------------------------------------------------------------------
    // K/V by position, shown to the policy

    /**
     * Writes K and V of all KV heads of the kept token at {@code position} in {@code layer}
     * ({@code kvHeads * headDim} floats each, head-major) and shows each head's key and value to the
     * policy if it uses them.
     *
     * @throws IllegalArgumentException if the position is not kept, or as {@link EvictingSequence#write}
     */
    public void write(int layer, int position, float[] keys, float[] values) {
        seq.write(layer, position, keys, values);
        int slot = seq.slotOf(position);
        if (policy.usesKeys()) {
            for (int h = 0; h < kvHeads; h++) {
                policy.onKey(layer, h, slot, keys, h * headDim, headDim);
            }
        }
        if (policy.usesValues()) {
            for (int h = 0; h < kvHeads; h++) {
                policy.onValue(layer, h, slot, values, h * headDim, headDim);
            }
        }
    }

    /** Writes K and V of all KV heads of one token from segments of little-endian binary32; see the array variant. */
    public void write(int layer, int position, MemorySegment keys, MemorySegment values) {
        seq.write(layer, position, keys, values);
        int slot = seq.slotOf(position);
        if (policy.usesKeys()) {
            MemorySegment.copy(keys, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, scratch, 0, scratch.length);
            for (int h = 0; h < kvHeads; h++) {
                policy.onKey(layer, h, slot, scratch, h * headDim, headDim);
            }
        }
        if (policy.usesValues()) {
            MemorySegment.copy(values, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, scratch, 0, scratch.length);
            for (int h = 0; h < kvHeads; h++) {
                policy.onValue(layer, h, slot, scratch, h * headDim, headDim);
            }
        }
    }

    /**
     * Writes K and V of all KV heads of the kept token at {@code position} from an engine's packed
     * buffers ({@code kvHeads * headDim} floats from each offset, head-major) and shows them to the
     * policy; every head is checked encodable before the first is written.
     */
    public void write(int layer, int position, float[] keys, int keysOff, float[] values, int valuesOff) {
        seq.write(layer, position, keys, keysOff, values, valuesOff);
        int slot = seq.slotOf(position);
        if (policy.usesKeys()) {
            for (int h = 0; h < kvHeads; h++) {
                policy.onKey(layer, h, slot, keys, keysOff + h * headDim, headDim);
            }
        }
        if (policy.usesValues()) {
            for (int h = 0; h < kvHeads; h++) {
                policy.onValue(layer, h, slot, values, valuesOff + h * headDim, headDim);
            }
        }
    }

    /** Writes the key of KV head {@code head} of the token at {@code position} from {@code src[off ..]} and shows it to the policy. */
    public void writeKey(int layer, int head, int position, float[] src, int off) {
        seq.writeKey(layer, head, position, src, off);
        if (policy.usesKeys()) {
            policy.onKey(layer, head, seq.slotOf(position), src, off, headDim);
        }
    }

    /** Writes the value of one KV head of one token from {@code src[off ..]} and shows it to the policy. */
    public void writeValue(int layer, int head, int position, float[] src, int off) {
        seq.writeValue(layer, head, position, src, off);
        if (policy.usesValues()) {
            policy.onValue(layer, head, seq.slotOf(position), src, off, headDim);
        }
    }

    /**
     * Re-rotates, in place, every layer's and KV head's key of the kept token at {@code position} from
     * RoPE position {@code from} to {@code to} (StreamingLLM's positions inside the cache, llama.cpp's
     * K-shift): each key is decoded, rotated by {@code to - from} ({@link RopeRerotation}, angle in
     * double, applied in fp32) and encoded back. The policy is not shown the key again (it is the same
     * token). Each call rounds once more (and re-encodes in the cache's dtype), so an engine should
     * re-rotate a key a bounded number of times: once per change of its place, never per step of a
     * token that does not move.
     *
     * @throws IllegalArgumentException if the position is not kept, or as {@link RopeRerotation#rerotate}
     */
    public void rerotateKey(int position, int from, int to, double theta, RopeStyle style) {
        if (seq.slotOf(position) == EvictingSequence.HOLE) {
            throw new IllegalArgumentException("position: " + position + " (expected: a kept token)");
        }
        if (from == to) {
            return;
        }
        int delta = to - from;
        if (delta != ropeDelta || theta != ropeTheta) {
            RopeRerotation.angles(headDim, (double) to - from, theta, ropeCos, ropeSin); // once per distinct shift
            ropeDelta = delta;
            ropeTheta = theta;
        }
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < kvHeads; h++) {
                seq.readKey(l, h, position, scratch, 0);
                RopeRerotation.apply(scratch, 0, headDim, ropeCos, ropeSin, style, scratch, 0);
                seq.writeKey(l, h, position, scratch, 0);
            }
        }
        keysRerotated++;
    }

    /** Tokens whose keys {@link #rerotateKey} re-rotated so far (each: every layer and KV head). */
    public long keysRerotated() {
        return keysRerotated;
    }

    /** Decodes the key of one KV head of the kept token at {@code position} into {@code dst[off ..]}. */
    public void readKey(int layer, int head, int position, float[] dst, int off) {
        seq.readKey(layer, head, position, dst, off);
    }

    /** Decodes the value of one KV head of the kept token at {@code position} into {@code dst[off ..]}. */
    public void readValue(int layer, int head, int position, float[] dst, int off) {
        seq.readValue(layer, head, position, dst, off);
    }

    // ---------------------------------------------------------------------------------------------
    // observations

    /** Whether the policy reads attention rows (an engine may skip computing them otherwise). */
    public boolean usesAttention() {
        return policy.usesAttention();
    }

    /** Whether the policy reads the step's queries. */
    public boolean usesQueries() {
        return policy.usesQueries();
    }

    /** Shows the policy the step's query of {@code queryHead} in {@code layer}, {@code q[off .. off + headDim)}. */
    public void query(int layer, int queryHead, float[] q, int off) {
        if (policy.usesQueries()) {
            policy.onQuery(layer, queryHead, q, off, headDim);
        }
    }

    /**
     * Shows the policy the step's softmax weights of {@code queryHead} in {@code layer}: {@code
     * weights[off + slot]} for every slot {@code 0 .. slots() - 1} (holes carry anything; they are
     * ignored).
     */
    public void attention(int layer, int queryHead, float[] weights, int off) {
        if (policy.usesAttention()) {
            policy.onAttention(layer, queryHead, weights, off, seq.slots());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // read-only state

    /** Slots in use or holes: the length attention walks. */
    public int slots() {
        return seq.slots();
    }

    /** Kept tokens. */
    public int liveTokens() {
        return seq.liveTokens();
    }

    /** Holes not yet reused, released or compacted (attention must skip them, or call {@link #compact()}). */
    public int holes() {
        return seq.holes();
    }

    /** Whether {@code slot} is a hole. */
    public boolean isHole(int slot) {
        return seq.isHole(slot);
    }

    /** The original position of the token in {@code slot}, or {@link EvictingSequence#HOLE}. */
    public int positionOf(int slot) {
        return seq.positionOf(slot);
    }

    /** The slot of the kept token at {@code position}, or {@link EvictingSequence#HOLE}. */
    public int slotOf(int position) {
        return seq.slotOf(position);
    }

    /** Tokens placed so far: the position the next token gets. */
    public int nextPosition() {
        return seq.nextPosition();
    }

    /** Blocks in the block table. */
    public int blockCount() {
        return seq.blockCount();
    }

    /** The block id at table index {@code index}. */
    public int blockId(int index) {
        return seq.blockId(index);
    }

    /** Copies the block table into {@code dst} and returns the count. */
    public int copyBlockTable(int[] dst) {
        return seq.copyBlockTable(dst);
    }

    /** The cache. */
    public PagedKvCache cache() {
        return seq.cache();
    }

    /** The policy's name. */
    public String policyName() {
        return policy.name();
    }

    /** The policy's budget rule. */
    public Budget budget() {
        return policy.budget();
    }

    /** The policy's quantum. */
    public int quantum() {
        return policy.quantum();
    }

    /** Tokens evicted so far. */
    public long tokensEvicted() {
        return tokensEvicted;
    }

    /** Blocks given back to the pool by eviction so far (whole-block releases and compaction). */
    public long blocksFreed() {
        return blocksFreed;
    }

    /** Blocks released whole, with no copy, so far. */
    public long blocksReleased() {
        return blocksReleased;
    }

    /** Slot moves made by compaction so far. */
    public long slotMoves() {
        return slotMoves;
    }

    // ---------------------------------------------------------------------------------------------
    // lifecycle

    /** Offers the full leading blocks whose ids are known (before any eviction) to the prefix cache. */
    public int commitPrefix() {
        return seq.commitPrefix();
    }

    /**
     * A fork: the sequence's blocks shared (copy-on-write) and an independent copy of the policy in
     * its current state, so both continue with the same scores and decide alike on the same future.
     */
    public SequenceEvictor fork() {
        return new SequenceEvictor(seq.fork(), policy.copy(), this);
    }

    /** Closes the sequence. */
    @Override
    public void close() {
        seq.close();
    }

    @Override
    public String toString() {
        return "SequenceEvictor[" + seq + ", " + policy.name() + "]";
    }
}
