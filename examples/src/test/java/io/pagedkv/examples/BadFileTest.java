package io.pagedkv.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.llama.CheckpointFiles;
import io.pagedkv.examples.llama.LlamaConfig;
import io.pagedkv.examples.llama.SeededWeights;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every command answers a file that is not what it should be with exactly one line on standard error,
 * naming the file, the byte offset and what was expected, and exit status 1; never a stack trace.
 * (Before: {@code generate --model README.md} printed an IllegalArgumentException's stack trace.)
 */
class BadFileTest {

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = PagedKvCli.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(cl.execute(args), out.toString(), err.toString());
    }

    private static void assertOneLine(Run r, String... parts) {
        assertEquals(PagedKvCli.EXIT_BAD_FILE, r.exit(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line expected:\n" + r.err());
        assertFalse(err.contains("Exception") || err.contains("\tat "), err);
        for (String p : parts) {
            assertTrue(err.contains(p), "'" + p + "' missing in: " + err);
        }
    }

    private Path textFile() throws IOException {
        return Files.writeString(dir.resolve("notes.md"), "# not a model\nsome text that is long enough to be read\n");
    }

    /** A valid llama2.c header (dim 8, hidden 12, 1 layer, 2 heads, 1 KV head, vocab 7, seq 5) with no weights. */
    private Path headerOnly() throws IOException {
        ByteBuffer h = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(8).putInt(12).putInt(1).putInt(2).putInt(1).putInt(7).putInt(5);
        return Files.write(dir.resolve("truncated.bin"), h.array());
    }

    @Test
    void generateAnswersATextFileGivenAsTheModelWithOneLine() throws IOException {
        Path f = textFile();
        assertOneLine(run("generate", "--model", f.toString()), "pagedkv generate: ", f.toString(), "at byte",
                "expected");
    }

    @Test
    void generateAnswersATruncatedCheckpointWithWhereItEndsAndTheSizeItNeeds() throws IOException {
        Path f = headerOnly();
        assertOneLine(run("generate", "--model", f.toString()), f.toString(), "ends at byte 28", "(expected: ",
                " bytes for the header's");
    }

    @Test
    void qualityAnswersABadCheckpointWithOneLine() throws IOException {
        Path f = textFile();
        assertOneLine(run("quality", "--model", f.toString()), "pagedkv quality: ", f.toString(), "at byte");
    }

    @Test
    void generateAnswersATextFileGivenAsTheTokenizerWithOneLine() throws IOException {
        Path model = Files.write(dir.resolve("tiny.bin"), CheckpointFiles.bytes(
                SeededWeights.generate(new LlamaConfig(8, 12, 1, 2, 1, 7, 5, true), 6)));
        Path tok = Files.write(dir.resolve("tok.bin"), new byte[] {16, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff,
            (byte) 0xff, 0x7f});
        assertOneLine(run("generate", "--model", model.toString(), "--tokenizer", tok.toString()),
                "pagedkv generate: ", tok.toString(), "at byte 8: token 0 has length 2147483647", "expected");
    }

    @Test
    void planAnswersAMissingAndAMalformedModelFileWithOneLine() throws IOException {
        Path f = headerOnly();
        assertOneLine(run("plan", "--model", f.toString()), f.toString(), "expected");
    }
}
