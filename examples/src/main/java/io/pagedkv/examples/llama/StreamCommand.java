package io.pagedkv.examples.llama;

import io.pagedkv.eviction.StandardPolicy;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code pagedkv stream}: StreamingLLM's evaluation on a real model. A long public-domain text
 * ({@link EvalText}) is streamed token by token, teacher-forced, and every token's NLL recorded under:
 * the dense cache (every token kept), the sliding window with re-computation (the ceiling of a
 * window), and each policy at each budget in each rotary mode through the paged evicting cache. Prints
 * the mean NLL over ranges of positions and what each cache held at most, and writes a CSV of the
 * per-token NLL and a chart. Not thread-safe; one per run.
 */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = "Stream a long text through a llama2.c model under eviction policies and budgets (StreamingLLM's"
                + " evaluation): per-token NLL against the dense cache and the sliding window with re-computation.")
public final class StreamCommand implements Callable<Integer> {

    private static final Color[] POLICY_COLORS = {new Color(0xd62728), new Color(0x1f77b4), new Color(0x2ca02c),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0xbcbd22), new Color(0x17becf)};

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "llama2.c checkpoint (.bin)")
    Path model;

    @Option(names = "--tokenizer", required = true, description = "the model's tokenizer (.bin)")
    Path tokenizer;

    @Option(names = "--tokens", defaultValue = "4096", description = "tokens of the text streamed, BOS included (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--budgets", split = ",", defaultValue = "16,32,64", description = "cache budgets in tokens (default: ${DEFAULT-VALUE})")
    int[] budgets;

    @Option(names = "--policies", split = ",", defaultValue = "window,sinks,h2o,tova",
            description = "policies (default: ${DEFAULT-VALUE})")
    List<String> policies;

    @Option(names = "--rotary", split = ",", defaultValue = "original,cache",
            description = "rotary modes of the evicting caches (default: ${DEFAULT-VALUE}; a window is run in original only:"
                    + " it is the same in both)")
    RotaryMode[] rotary;

    @Option(names = "--no-recompute", description = "skip the sliding window with re-computation (the slow ceiling)")
    boolean noRecompute;

    @Option(names = "--threads", defaultValue = "1", description = "threads for the re-computation (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--csv", description = "write position,curve... per-token NLL here")
    Path csv;

    @Option(names = "--chart", description = "write the PNG chart here")
    Path chart;

    @Option(names = "--smooth", defaultValue = "128", description = "chart: trailing mean over this many tokens (default: ${DEFAULT-VALUE})")
    int smooth;

    /** One measured curve. */
    private record Curve(String label, int budget, double[] nll, String memory, int panel, Color color, boolean dashed) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isReadable(model)) {
            err.println("--model: " + model + " (expected: a readable llama2.c checkpoint)");
            return 2;
        }
        if (!Files.isReadable(tokenizer)) {
            err.println("--tokenizer: " + tokenizer + " (expected: the model's readable tokenizer)");
            return 2;
        }
        if (threads < 1 || smooth < 1) {
            err.println("--threads, --smooth: " + threads + ", " + smooth + " (expected: both >= 1)");
            return 2;
        }
        LlamaWeights w = CheckpointReader.read(model);
        int context = w.config().seqLen();
        int[] ids;
        try {
            ids = EvalText.stream(Tokenizer.read(tokenizer, w.config().vocabSize()), tokens);
        } catch (IllegalArgumentException e) {
            err.println("--tokens: " + e.getMessage());
            return 2;
        }
        List<StandardPolicy> line = new ArrayList<>();
        for (String name : policies) {
            try {
                line.add(StandardPolicy.parse(name));
            } catch (IllegalArgumentException e) {
                err.println("--policies: " + e.getMessage());
                return 2;
            }
        }
        for (int b : budgets) {
            if (b < StandardPolicy.MIN_BUDGET || b >= tokens) {
                err.println("--budgets: " + b + " (expected: " + StandardPolicy.MIN_BUDGET + " <= budget < tokens " + tokens + ")");
                return 2;
            }
        }
        out.printf(Locale.ROOT, "%s (context %d), %d tokens of KJV Genesis (%s) streamed token by token, teacher-forced;"
                + " paged f32 caches, blocks of 16%n", model.getFileName(), context, tokens, EvalText.RESOURCE);
        int from = Math.min(32, context / 4);
        StreamingEval.FirstTokenMass sink = StreamingEval.firstTokenMass(w, ids, from, Math.min(context, tokens));
        out.printf(Locale.ROOT, "attention on the first token (dense, queries %d-%d): mean %.4f, largest head %.4f, against"
                + " %.4f for a uniform row (%.1fx); an attention sink would draw far more%n", from, Math.min(context, tokens) - 1,
                sink.mean(), sink.max(), sink.uniform(), sink.max() / sink.uniform());
        List<Curve> curves = new ArrayList<>();
        long start = System.nanoTime();
        curves.add(new Curve("dense (every token kept)", 0, StreamingEval.dense(w, ids), tokens + " tokens", -1,
                Color.GRAY, false));
        for (int p = 0; p < budgets.length; p++) {
            int b = budgets[p];
            if (!noRecompute) {
                curves.add(new Curve("recompute(" + b + ")", b, StreamingEval.recompute(w, b, ids, threads),
                        b + " tokens, recomputed per token", p, Color.BLACK, false));
            }
            for (int i = 0; i < line.size(); i++) {
                StandardPolicy sp = line.get(i);
                for (RotaryMode mode : rotary) {
                    if (sp == StandardPolicy.WINDOW && mode == RotaryMode.CACHE && rotary.length > 1) {
                        continue; // a window keeps a contiguous run: both modes give the same curve (PolicyQualityTest)
                    }
                    StreamingEval.Streamed s = StreamingEval.evicting(w, sp.create(b), mode, ids);
                    String mem = String.format(Locale.ROOT, "%d tokens in %d of %d blocks%s", s.peakTokens(), s.peakBlocks(),
                            s.blockLimit(), mode == RotaryMode.CACHE ? ", " + s.keysRerotated() + " re-rotated" : "");
                    curves.add(new Curve(sp.create(b).name() + " " + mode.name().toLowerCase(Locale.ROOT), b, s.nll(), mem, p,
                            POLICY_COLORS[i % POLICY_COLORS.length], mode == RotaryMode.ORIGINAL));
                }
            }
            out.printf(Locale.ROOT, "  budget %d done (%.0f s)%n", b, (System.nanoTime() - start) / 1e9);
            out.flush();
        }
        printTable(out, curves, context);
        if (csv != null) {
            writeCsv(curves);
            out.println("csv: " + csv);
        }
        if (chart != null) {
            List<String> titles = new ArrayList<>();
            List<StreamingChart.Line> lines = new ArrayList<>();
            for (int p = 0; p < budgets.length; p++) {
                titles.add("budget " + budgets[p]);
                for (Curve c : curves) {
                    if (c.panel() == p || c.panel() < 0) {
                        lines.add(new StreamingChart.Line(c.label(), p, c.nll(), c.color(), c.dashed()));
                    }
                }
            }
            StreamingChart.write(model.getFileName() + ": per-token NLL streaming " + tokens + " tokens of KJV Genesis"
                    + " (trailing mean of " + smooth + "; dashed = keys at original positions)", titles, lines, smooth, context,
                    chart.toFile(), 1100, 320 * budgets.length + 130);
            out.println("chart: " + chart);
        }
        return 0;
    }

    /** Position ranges of the table: 1 to the context, then 4, 8, 16, ... contexts, to the end. */
    private int[] bounds(int context) {
        List<Integer> b = new ArrayList<>(List.of(1));
        int at = context;
        while (at < tokens) {
            b.add(at);
            at = at == context ? 4 * context : 2 * at;
        }
        b.add(tokens);
        return b.stream().mapToInt(Integer::intValue).toArray();
    }

    private void printTable(PrintWriter out, List<Curve> curves, int context) {
        int[] bounds = bounds(context);
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "| %-28s | %6s |", "cache", "budget"));
        StringBuilder rule = new StringBuilder("|------------------------------|-------:|");
        for (int i = 0; i + 1 < bounds.length; i++) {
            head.append(String.format(Locale.ROOT, " %9s |", bounds[i] + "-" + (bounds[i + 1] - 1)));
            rule.append("----------:|");
        }
        head.append(String.format(Locale.ROOT, " %9s | %-26s | %-40s |", context + "-end", "minus recompute, paired",
                "held at most"));
        rule.append("----------:|----------------------------|------------------------------------------|");
        out.println("mean NLL in nats per token over ranges of positions (the token predicted); minus recompute: the mean"
                + " difference to the same budget's re-computation from position " + context + " on, with a 95% interval"
                + " over blocks of " + context + " tokens");
        out.println(head);
        out.println(rule);
        for (Curve c : curves) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %-28s | %6s |", c.label(),
                    c.budget() == 0 ? "-" : Integer.toString(c.budget())));
            for (int i = 0; i + 1 < bounds.length; i++) {
                row.append(String.format(Locale.ROOT, " %9.3f |", StreamingEval.mean(c.nll(), bounds[i], bounds[i + 1])));
            }
            Curve ceiling = null;
            for (Curve r : curves) {
                if (r.budget() == c.budget() && r.label().startsWith("recompute")) {
                    ceiling = r;
                }
            }
            String paired = "-";
            if (ceiling != null && ceiling != c && c.budget() > 0 && (tokens - context) / context >= 2) {
                MeanInterval d = StreamingEval.pairedBlocks(c.nll(), ceiling.nll(), context, tokens, context);
                paired = String.format(Locale.ROOT, "%+.3f [%+.3f, %+.3f]", d.mean(), d.low(), d.high());
            }
            row.append(String.format(Locale.ROOT, " %9.3f | %-26s | %-40s |", StreamingEval.mean(c.nll(), context, tokens),
                    paired, c.memory()));
            out.println(row);
        }
    }

    private void writeCsv(List<Curve> curves) throws IOException {
        StringBuilder sb = new StringBuilder("position");
        for (Curve c : curves) {
            sb.append(',').append(c.label().replace(',', ';'));
        }
        sb.append('\n');
        for (int t = 1; t < tokens; t++) {
            sb.append(t);
            for (Curve c : curves) {
                sb.append(',').append(String.format(Locale.ROOT, "%.5f", c.nll()[t]));
            }
            sb.append('\n');
        }
        Files.writeString(csv, sb);
    }
}
