package io.pagedkv.examples;

import io.pagedkv.examples.benchserve.BenchServeCommand;
import io.pagedkv.examples.evict.EvictCommand;
import io.pagedkv.examples.llama.GenerateCommand;
import io.pagedkv.examples.llama.QualityCommand;
import io.pagedkv.examples.plan.PlanCommand;
import io.pagedkv.examples.serve.ServeCommand;
import io.pagedkv.examples.simulate.SimulateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code pagedkv} command line: one subcommand per program. Not thread-safe; one per process.
 */
@Command(
        name = "pagedkv",
        mixinStandardHelpOptions = true,
        version = "pagedkv 0.1.0",
        description = "A paged, off-heap KV-cache manager for LLM inference on the JVM.",
        subcommands = {
            PlanCommand.class,
            SimulateCommand.class,
            GenerateCommand.class,
            QualityCommand.class,
            EvictCommand.class,
            ServeCommand.class,
            BenchServeCommand.class,
            CommandLine.HelpCommand.class
        })
public final class PagedKvCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit status (0 on success). */
    public static int run(String... args) {
        return newCommandLine().execute(args);
    }

    /** A configured command line, for tests that capture its output. */
    public static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new PagedKvCli());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
