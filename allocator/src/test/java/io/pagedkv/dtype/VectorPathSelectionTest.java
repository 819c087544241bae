package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The fast path is chosen at start-up: a JVM without {@code --add-modules jdk.incubator.vector}
 * runs the scalar codecs and never loads a class that names the Vector API; with the module it
 * runs the vector codecs unless {@code -Dpagedkv.codec.vector=false}. Each case is a child JVM
 * running {@link CodecPathProbe} with {@code -verbose:class}.
 */
class VectorPathSelectionTest {

    private static String run(String... jvmArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xshare:auto");
        cmd.add("-verbose:class");
        cmd.addAll(List.of(jvmArgs));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(CodecPathProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe JVM finished");
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private static String probeLine(String out) {
        return out.lines().filter(l -> l.startsWith("vector=")).findFirst().orElse("no probe output:\n" + out);
    }

    @Test
    void withoutTheIncubatorModuleTheScalarCodecsRunAndNoVectorClassLoads() throws Exception {
        String out = run();
        assertEquals("vector=false q4=Q4_0Codec bf16=Bf16Codec roundtrip=-16.0", probeLine(out));
        assertFalse(out.contains("jdk.incubator.vector"), "a Vector API class was loaded");
        assertFalse(out.contains("io.pagedkv.dtype.Vector"), "a vector codec class was loaded");
    }

    @Test
    void withTheIncubatorModuleTheVectorCodecsRun() throws Exception {
        String out = run("--add-modules", "jdk.incubator.vector");
        assertEquals("vector=true q4=VectorQ4_0Codec bf16=VectorBf16Codec roundtrip=-16.0", probeLine(out));
    }

    @Test
    void thePropertyFalseKeepsTheScalarCodecsEvenWithTheModule() throws Exception {
        String out = run("--add-modules", "jdk.incubator.vector", "-D" + KvCodecs.VECTOR_PROP_NAME + "=false");
        assertEquals("vector=false q4=Q4_0Codec bf16=Bf16Codec roundtrip=-16.0", probeLine(out));
        assertFalse(out.contains("io.pagedkv.dtype.Vector"), "a vector codec class was loaded");
    }
}
