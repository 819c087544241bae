package io.pagedkv.examples.plan;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.plan.AttentionKernel;
import io.pagedkv.plan.ByteSize;
import io.pagedkv.plan.MemoryPlan;
import java.io.PrintWriter;
import java.util.Locale;

/** Renders a {@link MemoryPlan} as the human-readable table of {@code pagedkv plan}. Stateless. */
final class PlanTable {

    private PlanTable() {
    }

    static void write(MemoryPlan p, String memorySource, PrintWriter out) {
        String n = PlanFigures.grouped(p.concurrency());
        String ctx = PlanFigures.grouped(p.contextTokens());
        out.println("model:    " + PlanFigures.describe(p.shape()));
        out.println("workload: " + n + " request(s) x " + ctx + " tokens, KV cache " + p.kvDtype() + " ("
                + bits(p.kvDtype().bitsPerValue()) + " bits/value), blocks of " + p.blockSize() + " tokens, weights "
                + p.weights() + " (" + bits(p.weights().bitsPerWeight()) + " bits/weight)");
        out.println("memory:   " + memorySource + " = " + PlanFigures.grouped(p.memoryBytes()) + " bytes");
        out.println();
        out.printf(Locale.ROOT, "%-36s %22s %12s %12s%n", "term", "bytes", "GB", "GiB");
        row(out, "weights (" + p.weights() + ")", p.weightsBytes());
        row(out, "overhead", p.overheadBytes());
        row(out, "KV cache per token (all layers)", p.bytesPerToken());
        row(out, "KV cache per block (" + p.blockSize() + " tokens)", p.bytesPerBlock());
        row(out, "KV cache per request (" + ctx + " tok)", p.cacheBytesPerRequest());
        row(out, "KV cache x " + n + " request(s)", p.cacheBytes());
        row(out, "total = overhead + weights + cache", p.totalBytes());
        row(out, "memory", p.memoryBytes());
        row(out, "headroom", p.headroomBytes());
        String chunk = PlanFigures.grouped(Math.min(p.prefillChunkTokens(), Math.max(1, p.contextTokens())));
        for (AttentionKernel k : AttentionKernel.values()) {
            MemoryPlan q = p.withAttention(k);
            row(out, "prefill transient, " + k + (k == p.attention() ? "*" : "") + " (" + chunk + " tok)",
                    q.prefillTransientBytes());
            row(out, k == AttentionKernel.FLASH ? "  softmax row stats (f32, 2/row)" : "  attention scores (f32, 1 layer)",
                    q.prefillAttentionScratchBytes());
            row(out, "  activations", q.prefillActivationBytes());
        }
        row(out, "peak during prefill (" + p.attention() + ")", p.peakBytes());
        out.println();
        if (p.fits()) {
            out.println("fits:     YES, with " + ByteSize.both(p.headroomBytes()) + " to spare"
                    + (p.fitsWithPrefill() ? "; the prefill peak fits too"
                            : "; but the " + p.attention() + " prefill peak does NOT fit (lower --prefill-chunk"
                                    + (p.attention() == AttentionKernel.EAGER ? " or use flash attention)" : ")")));
        } else {
            out.println("fits:     NO, short by " + (p.headroomBytes() == Long.MIN_VALUE ? "more than 2^63 bytes"
                    : ByteSize.both(-p.headroomBytes())));
        }
        out.println("largest context at " + n + " request(s):        " + tokens(p.maxContext()));
        out.println("largest concurrency at " + ctx + " tokens: " + PlanFigures.maxFigure(p.maxConcurrency()));
        if (p.shape().pattern() != io.pagedkv.model.AttentionPattern.GLOBAL) {
            writeHybrid(p, out);
        }
        out.println();
        out.println("every KV dtype, same workload:");
        out.printf(Locale.ROOT, "%-9s %6s %12s %14s %14s %5s %16s %16s%n", "kv dtype", "bits", "bytes/token",
                "GiB/request", "total GiB", "fits", "max context @" + n, "max concurrency");
        for (KvDType d : KvDType.values()) {
            if (!d.supports(p.shape().headDim())) {
                out.printf(Locale.ROOT, "%-9s %6s   n/a: head dim %d is not a multiple of %d%n", d.label(),
                        bits(d.bitsPerValue()), p.shape().headDim(), d.groupSize());
                continue;
            }
            MemoryPlan q = p.withKvDtype(d);
            out.printf(Locale.ROOT, "%-9s %6s %12s %14.2f %14.2f %5s %16s %16s%n", d.label() + (d == p.kvDtype() ? "*"
                    : ""), bits(d.bitsPerValue()), PlanFigures.grouped(q.bytesPerToken()),
                    q.cacheBytesPerRequest() / (double) ByteSize.GIB, gib(q.totalBytes()), q.fits() ? "yes" : "no",
                    PlanFigures.maxFigure(q.maxContext()), PlanFigures.maxFigure(q.maxConcurrency()));
        }
        out.println("(* = --kv-dtype / --attention; GB = 10^9 bytes, GiB = 2^30 bytes; a partly filled block costs a"
                + " whole block; flash = tiled online softmax, the score matrix never leaves on-chip memory;"
                + " eager = one layer's scores materialised)");
    }

    /** The memory the sliding layers save against treating every layer as global. */
    private static void writeHybrid(MemoryPlan p, PrintWriter out) {
        MemoryPlan g = PlanFigures.allGlobal(p);
        String n = PlanFigures.grouped(p.concurrency());
        String ctx = PlanFigures.grouped(p.contextTokens());
        out.println();
        out.println("sliding window vs all layers global (" + p.shape().slidingLayers() + " of " + p.shape().layers()
                + " layers slide over " + PlanFigures.grouped(p.shape().slidingWindow()) + " tokens):");
        out.printf(Locale.ROOT, "%-36s %22s %22s %12s%n", "", "all global", "sliding", "saved");
        long saved = g.cacheBytesPerRequest() - p.cacheBytesPerRequest();
        out.printf(Locale.ROOT, "%-36s %22s %22s %11.1f%%%n", "KV cache per request (" + ctx + " tok)",
                PlanFigures.grouped(g.cacheBytesPerRequest()), PlanFigures.grouped(p.cacheBytesPerRequest()),
                g.cacheBytesPerRequest() == 0 ? 0.0 : 100.0 * saved / g.cacheBytesPerRequest());
        out.printf(Locale.ROOT, "%-36s %22s %22s %12s%n", "KV cache x " + n + " request(s)",
                PlanFigures.grouped(g.cacheBytes()), PlanFigures.grouped(p.cacheBytes()),
                String.format(Locale.ROOT, "%.2f GiB", Math.max(0, g.cacheBytes() - p.cacheBytes()) / (double) ByteSize.GIB));
        out.printf(Locale.ROOT, "%-36s %22s %22s%n", "fits", g.fits() ? "yes" : "no", p.fits() ? "yes" : "no");
        out.printf(Locale.ROOT, "%-36s %22s %22s%n", "largest concurrency at " + ctx + " tok",
                PlanFigures.maxFigure(g.maxConcurrency()), PlanFigures.maxFigure(p.maxConcurrency()));
        out.printf(Locale.ROOT, "%-36s %22s %22s%n", "largest context at " + n + " request(s)",
                PlanFigures.maxFigure(g.maxContext()), PlanFigures.maxFigure(p.maxContext()));
        out.println("(a sliding layer holds at most blocks(window) + 1: what pagedkv's GroupedKvCache, which frees a sliding"
                + " group's blocks outside the window, holds between steps; the window's first block is partly in)");
    }

    private static String tokens(long v) {
        String f = PlanFigures.maxFigure(v);
        return v == MemoryPlan.NONE ? "none (weights and overhead alone exceed the memory)"
                : v == MemoryPlan.UNLIMITED ? f + " (the cache stops growing: every layer slides)" : f + " tokens";
    }

    private static double gib(long bytes) {
        return bytes == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : bytes / (double) ByteSize.GIB;
    }

    private static String bits(double b) {
        return b == Math.rint(b) ? String.format(Locale.ROOT, "%.0f", b) : String.format(Locale.ROOT, "%.2f", b)
                .replaceFirst("0$", "");
    }

    private static void row(PrintWriter out, String term, long bytes) {
        if (bytes == Long.MAX_VALUE || bytes == Long.MIN_VALUE) {
            out.printf(Locale.ROOT, "%-36s %22s %12s %12s%n", term, bytes > 0 ? "> 9.2e18" : "< -9.2e18", "overflow",
                    "overflow");
            return;
        }
        out.printf(Locale.ROOT, "%-36s %22s %12s %12s%n", term, PlanFigures.grouped(bytes),
                unit(bytes, ByteSize.GB), unit(bytes, ByteSize.GIB));
    }

    private static String unit(long bytes, long unit) {
        double v = bytes / (double) unit;
        return Math.abs(v) >= 0.01 || v == 0 ? String.format(Locale.ROOT, "%.2f", v)
                : String.format(Locale.ROOT, "%.6f", v);
    }
}
