package io.pagedkv.examples.plan;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.model.ModelSource;
import io.pagedkv.plan.AttentionKernel;
import io.pagedkv.plan.ByteSize;
import io.pagedkv.plan.Hardware;
import io.pagedkv.plan.MemoryPlan;
import io.pagedkv.plan.TokenCount;
import io.pagedkv.plan.WeightFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pagedkv plan}: sizes weights and KV cache of a model for a context and a concurrency, says
 * whether that fits a memory budget, and shows the largest context and concurrency that do, for the
 * chosen KV dtype and every other one side by side. Exit status: 0 when the plan was computed
 * (whether or not it fits), 1 when a model file cannot be read, 2 for a bad flag. Not thread-safe;
 * one instance per invocation.
 */
@Command(
        name = "plan",
        mixinStandardHelpOptions = true,
        description = {
            "Will a model with this context and this many concurrent requests fit this memory?",
            "Prints each budget term (weights, overhead, KV cache per token/block/request/all requests, prefill"
                    + " transient), whether it fits, the headroom, the largest context and concurrency that fit,"
                    + " and the same for every KV dtype. Sizes are shown in bytes, GB (10^9) and GiB (2^30).",
            "Defaults answer: a 70B model, 128k context, 4 requests, q8_0 cache, q4_k_m weights, on an 80 GiB H100."
        },
        sortOptions = false)
public final class PlanCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL", defaultValue = "llama-3.1-70b",
            description = "A preset (llama-3.1-8b, llama-3.1-70b, llama-3.1-405b, mistral-7b, qwen2.5-7b, qwen2.5-72b,"
                    + " gemma-2-9b, gpt2, ...) or a path to a config.json, .gguf or llama2.c .bin. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = {"-c", "--context"}, paramLabel = "TOKENS", defaultValue = "128k",
            description = "Tokens per request; k = 1024, M = 1048576 (128k = 131072). Default: ${DEFAULT-VALUE}.")
    String context;

    @Option(names = {"-k", "--kv-dtype"}, paramLabel = "DTYPE", defaultValue = "q8_0",
            description = "KV cache storage: f32, f16, bf16, fp8_e4m3, fp8_e5m2, q8_0, q4_0. Default: ${DEFAULT-VALUE}.")
    String kvDtype;

    @Option(names = {"-n", "--concurrency"}, paramLabel = "REQUESTS", defaultValue = "4",
            description = "Requests held at once. Default: ${DEFAULT-VALUE}.")
    String concurrency;

    @Option(names = "--memory", paramLabel = "SIZE",
            description = "Memory budget with an explicit unit: 80GiB, 24GB, 512MiB (not with --gpu).")
    String memory;

    @Option(names = "--gpu", paramLabel = "NAME",
            description = "Hardware preset: rtx-4090, rtx-5090, h100, h200, m4-max (75%% of 128 GiB). Default: h100.")
    String gpu;

    @Option(names = {"-w", "--weights"}, paramLabel = "FORMAT", defaultValue = "q4_k_m",
            description = "Weight storage: f32, f16, bf16, q8_0, q6_k, q5_k_m, q4_k_m, q4_0, or e.g. 5.5bpw."
                    + " Default: ${DEFAULT-VALUE}.")
    String weights;

    @Option(names = "--overhead", paramLabel = "SIZE", defaultValue = "1GiB",
            description = "Fixed overhead (runtime, CUDA context, buffers). Default: ${DEFAULT-VALUE}.")
    String overhead;

    @Option(names = "--block-size", paramLabel = "TOKENS", defaultValue = "16",
            description = "Tokens per cache block. Default: ${DEFAULT-VALUE}.")
    String blockSize;

    @Option(names = "--prefill-chunk", paramLabel = "TOKENS", defaultValue = "512",
            description = "Prompt tokens per prefill step, for the transient term. Default: ${DEFAULT-VALUE}.")
    String prefillChunk;

    @Option(names = "--attention", paramLabel = "KERNEL", defaultValue = "flash",
            description = "Prefill attention kernel for the peak: flash (tiled online softmax, no score matrix in"
                    + " memory; what current engines run) or eager (one layer's score matrix materialised)."
                    + " Both transients are printed. Default: ${DEFAULT-VALUE}.")
    String attention;

    @Option(names = "--json", description = "Print the same figures as JSON, for scripts.")
    boolean json;

    /** Exit status for a bad flag, as picocli uses for its own usage errors. */
    public static final int EXIT_BAD_FLAG = 2;
    /** Exit status when a model file cannot be read. */
    public static final int EXIT_BAD_MODEL = 1;

    /** Prints the plan; returns 0, or {@link #EXIT_BAD_FLAG} / {@link #EXIT_BAD_MODEL}. */
    @Override
    public Integer call() {
        try {
            return plan();
        } catch (CommandLine.ParameterException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("pagedkv plan: " + e.getMessage());
            err.println("Try 'pagedkv plan --help' for the flags and their defaults.");
            err.flush();
            return EXIT_BAD_FLAG;
        }
    }

    private int plan() {
        ModelShape shape;
        try {
            shape = ModelSource.resolve(model);
        } catch (IllegalArgumentException e) {
            throw bad("--model", e);
        } catch (IOException e) {
            spec.commandLine().getErr().println("pagedkv plan: cannot read model '" + model + "': " + e.getMessage());
            spec.commandLine().getErr().flush();
            return EXIT_BAD_MODEL;
        }
        MemoryPlan plan = plan(shape);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            PlanJson.write(plan, memorySource(), out);
        } else {
            PlanTable.write(plan, memorySource(), out);
        }
        out.flush();
        return 0;
    }

    private MemoryPlan plan(ModelShape shape) {
        long tokens = parse("--context", () -> TokenCount.parse(context));
        KvDType dtype = parse("--kv-dtype", () -> KvDType.parse(kvDtype));
        long requests = parse("--concurrency", () -> positiveLong("concurrency", concurrency));
        WeightFormat format = parse("--weights", () -> WeightFormat.parse(weights));
        long overheadBytes = parse("--overhead", () -> ByteSize.parse(overhead).bytes());
        int block = parse("--block-size", () -> (int) Math.min(Integer.MAX_VALUE, positiveLong("block size", blockSize)));
        long chunk = parse("--prefill-chunk", () -> positiveLong("prefill chunk", prefillChunk));
        AttentionKernel kernel = parse("--attention", () -> AttentionKernel.parse(attention));
        if (memory != null && gpu != null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--memory " + memory + " and --gpu " + gpu + " both given (expected: one memory budget)");
        }
        long budget = memory != null ? parse("--memory", () -> ByteSize.parse(memory).bytes())
                : hardware().usableBytes();
        if (budget == 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--memory: " + memory + " (expected: > 0)");
        }
        if (!dtype.supports(shape.headDim())) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--kv-dtype: " + dtype + " needs a head dim"
                    + " that is a multiple of " + dtype.groupSize() + ", but " + shape.name() + " has head dim "
                    + shape.headDim() + " (try f16, bf16 or fp8_e4m3)");
        }
        return parse("--model", () -> new MemoryPlan(shape, dtype, block, format, overheadBytes, budget, tokens,
                requests, chunk, kernel));
    }

    private Hardware hardware() {
        return parse("--gpu", () -> Hardware.parse(gpu == null ? "h100" : gpu));
    }

    private String memorySource() {
        if (memory != null) {
            return "--memory " + memory;
        }
        Hardware h = hardware();
        return h.label() + (h.usablePercent() == 100 ? "" : " (" + h.usablePercent() + "% of "
                + ByteSize.both(h.totalBytes()) + " usable by the GPU)");
    }

    private static long positiveLong(String what, String text) {
        long v;
        try {
            v = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": '" + text + "' (expected: a whole number >= 1)");
        }
        if (v < 1) {
            throw new IllegalArgumentException(what + ": " + v + " (expected: >= 1)");
        }
        return v;
    }

    private <T> T parse(String flag, java.util.function.Supplier<T> parser) {
        try {
            return parser.get();
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw bad(flag, e);
        }
    }

    private CommandLine.ParameterException bad(String flag, RuntimeException e) {
        return new CommandLine.ParameterException(spec.commandLine(), flag + ": " + e.getMessage(), e);
    }
}
