package io.pagedkv.cache;

import java.util.Arrays;

/**
 * What besides the token ids names a request's prefix blocks: a per-request <b>salt</b> (vLLM's
 * {@code cache_salt}: requests with different salts never share a block, so one tenant cannot probe
 * another's prompts through cache timing), a whole-sequence <b>key</b> (a LoRA adapter id: its K/V
 * differ for the same tokens), and keys that apply to a <b>token range</b> only (an image's hash
 * covering its placeholder tokens): a block carries the keys of the ranges it overlaps, and the blocks
 * after a range differ through their parent.
 *
 * <p>A hit compares every one of these exactly (not a hash of them), so two requests share a block
 * only if the salt, the key, the keys of the ranges the block overlaps and all earlier blocks are
 * equal. Use a random 64-bit salt per tenant; 0 means "no salt" and is what a plain
 * {@link PagedKvCache#openSequence(int[])} uses.
 *
 * <pre>{@code
 * PrefixKeys keys = PrefixKeys.salted(tenantSalt)
 *         .withKey(adapterId)                       // every block
 *         .withRange(imageStart, imageEnd, imageHash); // only the blocks holding tokens [start, end)
 * Sequence seq = cache.openSequence(prompt, keys);
 * }</pre>
 *
 * <p>Immutable and thread-safe; ranges are kept sorted, so the order they were added in does not
 * matter.
 */
public final class PrefixKeys {

    /** No salt, no key, no range: what a request without extra keys uses. */
    public static final PrefixKeys NONE = new PrefixKeys(0, 0, new int[0], new int[0], new long[0], 0);

    private final long salt;
    private final long key;
    private final int[] from;
    private final int[] to;
    private final long[] rangeKeys;
    /** The layer group whose blocks these keys name (0: the first or only group); set by the cache. */
    private final int group;

    private PrefixKeys(long salt, long key, int[] from, int[] to, long[] rangeKeys, int group) {
        this.group = group;
        this.salt = salt;
        this.key = key;
        this.from = from;
        this.to = to;
        this.rangeKeys = rangeKeys;
    }

    /** Keys with only a whole-sequence key (0: none). */
    public static PrefixKeys of(long key) {
        return NONE.withKey(key);
    }

    /** Keys with only a salt (0: none). */
    public static PrefixKeys salted(long salt) {
        return NONE.withSalt(salt);
    }

    /** These keys with {@code salt} instead of the current salt. */
    public PrefixKeys withSalt(long salt) {
        return new PrefixKeys(salt, key, from, to, rangeKeys, group);
    }

    /** These keys with {@code key} as the whole-sequence key. */
    public PrefixKeys withKey(long key) {
        return new PrefixKeys(salt, key, from, to, rangeKeys, group);
    }

    /**
     * These keys plus {@code key} for the tokens {@code [from, to)}: it names every block that holds
     * one of them.
     *
     * @throws IllegalArgumentException if {@code from < 0} or {@code to <= from}
     */
    public PrefixKeys withRange(int from, int to, long key) {
        if (from < 0 || to <= from) {
            throw new IllegalArgumentException("range: [" + from + ", " + to + ") (expected: 0 <= from < to)");
        }
        int n = this.from.length;
        int at = 0;
        while (at < n && compare(this.from[at], this.to[at], rangeKeys[at], from, to, key) <= 0) {
            at++;
        }
        int[] f = insert(this.from, at, from);
        int[] t = insert(this.to, at, to);
        long[] k = Arrays.copyOf(rangeKeys, n + 1);
        System.arraycopy(rangeKeys, at, k, at + 1, n - at);
        k[at] = key;
        return new PrefixKeys(salt, this.key, f, t, k, group);
    }

    private static int compare(int f1, int t1, long k1, int f2, int t2, long k2) {
        if (f1 != f2) {
            return Integer.compare(f1, f2);
        }
        if (t1 != t2) {
            return Integer.compare(t1, t2);
        }
        return Long.compare(k1, k2);
    }

    private static int[] insert(int[] a, int at, int v) {
        int[] r = Arrays.copyOf(a, a.length + 1);
        System.arraycopy(a, at, r, at + 1, a.length - at);
        r[at] = v;
        return r;
    }

    /** The salt (0: none). */
    public long salt() {
        return salt;
    }

    /** The whole-sequence key (0: none). */
    public long key() {
        return key;
    }

    /**
     * These keys for layer group {@code group}'s blocks: a grouped cache shares one prefix index among
     * its groups, and a group's blocks must only ever match the same group's.
     */
    PrefixKeys inGroup(int group) {
        return group == this.group ? this : new PrefixKeys(salt, key, from, to, rangeKeys, group);
    }

    /** The layer group these keys name blocks of (0 unless set by a grouped cache). */
    int group() {
        return group;
    }

    /** Number of token ranges with a key. */
    public int ranges() {
        return from.length;
    }

    // ---------------------------------------------------------------------------------------------
    // per block, for the prefix cache (allocation-free except rangeKeysOf)

    private boolean overlaps(int r, int block, int blockSize) {
        long start = (long) block * blockSize;
        return from[r] < start + blockSize && to[r] > start;
    }

    /** The 64-bit input the hasher gets as extra key for block {@code block}: the keys folded. */
    long hashKey(int block, int blockSize) {
        if (salt == 0 && from.length == 0 && group == 0) {
            return key;
        }
        long h = key ^ (salt * 0x9E3779B97F4A7C15L) ^ (group * 0xD6E8FEB86659FD93L);
        for (int r = 0; r < from.length; r++) {
            if (overlaps(r, block, blockSize)) {
                h = (h ^ rangeKeys[r]) * 0xC2B2AE3D27D4EB4FL;
                h ^= h >>> 31;
            }
        }
        return h;
    }

    /** The keys of the ranges block {@code block} overlaps, in order; {@code null} if none. */
    long[] rangeKeysOf(int block, int blockSize) {
        int n = 0;
        for (int r = 0; r < from.length; r++) {
            if (overlaps(r, block, blockSize)) {
                n++;
            }
        }
        if (n == 0) {
            return null;
        }
        long[] k = new long[n];
        n = 0;
        for (int r = 0; r < from.length; r++) {
            if (overlaps(r, block, blockSize)) {
                k[n++] = rangeKeys[r];
            }
        }
        return k;
    }

    /** Whether the keys of the ranges block {@code block} overlaps are exactly {@code keys} ({@code null}: none). */
    boolean sameRangeKeys(long[] keys, int block, int blockSize) {
        int n = 0;
        for (int r = 0; r < from.length; r++) {
            if (overlaps(r, block, blockSize)) {
                if (keys == null || n >= keys.length || keys[n] != rangeKeys[r]) {
                    return false;
                }
                n++;
            }
        }
        return n == (keys == null ? 0 : keys.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PrefixKeys p && p.salt == salt && p.key == key && p.group == group
                && Arrays.equals(p.from, from)
                && Arrays.equals(p.to, to) && Arrays.equals(p.rangeKeys, rangeKeys);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(salt) * 31 + Long.hashCode(key) * 17 + Arrays.hashCode(rangeKeys);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("PrefixKeys[salt=").append(salt).append(", key=").append(key);
        for (int r = 0; r < from.length; r++) {
            b.append(", [").append(from[r]).append(", ").append(to[r]).append(")=").append(rangeKeys[r]);
        }
        return b.append(']').toString();
    }
}
