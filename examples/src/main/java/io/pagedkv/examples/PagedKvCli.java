package io.pagedkv.examples;

import io.pagedkv.examples.benchserve.BenchServeCommand;
import io.pagedkv.examples.evict.EvictCommand;
import io.pagedkv.examples.llama.GenerateCommand;
import io.pagedkv.examples.llama.QualityCommand;
import io.pagedkv.examples.llama.StreamCommand;
import io.pagedkv.examples.plan.PlanCommand;
import io.pagedkv.examples.serve.ServeCommand;
import io.pagedkv.examples.simulate.SimulateCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code pagedkv} command line: one subcommand per program. Not thread-safe; one per process.
 *
 * <p>Exit status: 0 on success, {@value #EXIT_BAD_FILE} when a file cannot be read or is not what it
 * should be (one line on standard error naming the file, the byte offset and what was expected, never
 * a stack trace), 2 for a bad flag. Any other exception is a bug and prints its stack trace.
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
            StreamCommand.class,
            EvictCommand.class,
            ServeCommand.class,
            BenchServeCommand.class,
            CommandLine.HelpCommand.class
        })
public final class PagedKvCli implements Runnable {

    /** Exit status when an input file cannot be read or is malformed. */
    public static final int EXIT_BAD_FILE = 1;

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
        cl.setExecutionExceptionHandler(PagedKvCli::badFile);
        return cl;
    }

    /** Answers an unreadable or malformed input file with one line; anything else is rethrown as a bug. */
    private static int badFile(Exception e, CommandLine cl, CommandLine.ParseResult parsed) throws Exception {
        Throwable io = e instanceof java.io.UncheckedIOException u ? u.getCause() : e;
        if (!(io instanceof java.io.IOException)) {
            throw e;
        }
        String message = io instanceof java.nio.file.NoSuchFileException n ? n.getFile() + ": no such file"
                : io instanceof java.nio.file.AccessDeniedException a ? a.getFile() + ": permission denied"
                : io.getMessage();
        cl.getErr().println("pagedkv " + cl.getCommandName() + ": " + message);
        cl.getErr().flush();
        return EXIT_BAD_FILE;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
