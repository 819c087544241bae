package io.pagedkv.examples.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Java snippet shown in {@code docs/*.md} is compiled code: it is quoted verbatim from a test
 * source, so a snippet that no longer compiles fails the build where it lives, and a doc that drifts
 * from its snippet fails here.
 *
 * <p>How: in a test source under any module's {@code src/test/java}, put the code between a line
 * {@code // snippet:NAME} and a line {@code // end-snippet}. In the doc, put the line {@code
 * <!-- snippet:NAME -->} right before the {@code ```java} fence. This test checks that the fence's
 * text equals the snippet's lines with their common indentation removed, that every snippet a doc
 * names exists exactly once, and that every {@code ```java} fence in {@code docs/} has a marker,
 * except the ones {@link #UNCONVERTED} still lists per doc (a fence added beyond that count fails).
 * Run with {@code -Dpagedkv.docs.write=true} to rewrite the docs' fences from the snippets.
 */
class DocSnippetsTest {

    /** Java fences not yet quoted from compiled code, per doc: the count may only go down. */
    static final Map<String, Integer> UNCONVERTED = Map.of();

    static final Pattern START = Pattern.compile("^\\s*// snippet:([A-Za-z0-9_.-]+)\\s*$");
    static final Pattern END = Pattern.compile("^\\s*// end-snippet\\s*$");
    static final Pattern MARKER = Pattern.compile("^<!-- snippet:([A-Za-z0-9_.-]+) -->$");

    static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("docs"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no docs/ folder above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    /** Every snippet in every module's test sources, by name. */
    static Map<String, String> snippets(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        List<Path> sources;
        try (Stream<Path> s = Files.walk(root, 12)) {
            sources = s.filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/test/java/")
                    && !p.toString().contains("/target/")).toList();
        }
        for (Path file : sources) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = START.matcher(lines.get(i));
                if (!m.matches() || file.getFileName().toString().equals("DocSnippetsTest.java")) {
                    continue;
                }
                int end = i + 1;
                while (end < lines.size() && !END.matcher(lines.get(end)).matches()) {
                    end++;
                }
                if (end == lines.size()) {
                    fail(root.relativize(file) + ":" + (i + 1) + ": snippet " + m.group(1) + " has no // end-snippet");
                }
                String previous = out.put(m.group(1), dedent(lines.subList(i + 1, end)));
                if (previous != null) {
                    fail("snippet " + m.group(1) + " defined twice (again in " + root.relativize(file) + ")");
                }
            }
        }
        return out;
    }

    static String dedent(List<String> lines) {
        int indent = Integer.MAX_VALUE;
        for (String l : lines) {
            if (!l.isBlank()) {
                indent = Math.min(indent, l.length() - l.stripLeading().length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l.isBlank() ? "" : l.substring(indent).stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    static List<Path> docs(Path root) throws IOException {
        try (Stream<Path> s = Files.list(root.resolve("docs"))) {
            return s.filter(p -> p.toString().endsWith(".md")).sorted().toList();
        }
    }

    @Test
    void everyJavaSnippetInTheDocsIsQuotedVerbatimFromCompiledTestCode() throws IOException {
        List<String> problems = problems(root(), UNCONVERTED, Boolean.getBoolean("pagedkv.docs.write"));
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
    }

    /** What is wrong with the docs under {@code root} (nothing: an empty list); rewrites drifted fences if {@code write}. */
    static List<String> problems(Path root, Map<String, Integer> unconverted, boolean write) throws IOException {
        Map<String, String> snippets = snippets(root);
        List<String> problems = new ArrayList<>();
        for (Path doc : docs(root)) {
            List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
            List<String> rewritten = new ArrayList<>();
            int unmarked = 0;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                rewritten.add(line);
                if (!line.equals("```java")) {
                    continue;
                }
                Matcher m = i > 0 ? MARKER.matcher(lines.get(i - 1)) : null;
                int close = i + 1;
                while (close < lines.size() && !lines.get(close).equals("```")) {
                    close++;
                }
                if (m == null || !m.matches()) {
                    unmarked++;
                    continue;
                }
                String name = m.group(1);
                String want = snippets.get(name);
                String shown = String.join("\n", lines.subList(i + 1, close)) + "\n";
                if (want == null) {
                    problems.add(doc.getFileName() + ":" + (i + 1) + ": snippet " + name + " is not in any test source");
                } else if (!want.equals(shown)) {
                    if (write) {
                        rewritten.addAll(List.of(want.split("\n", -1)).subList(0, want.split("\n", -1).length - 1));
                        i = close - 1;
                        continue;
                    }
                    problems.add(doc.getFileName() + ":" + (i + 1) + ": snippet " + name + " differs from its source;"
                            + " the compiled text is:\n" + want);
                }
            }
            if (write) {
                Files.write(doc, rewritten, StandardCharsets.UTF_8);
            }
            int allowed = unconverted.getOrDefault(doc.getFileName().toString(), 0);
            if (unmarked > allowed) {
                problems.add(doc.getFileName() + ": " + unmarked + " ```java fences without a <!-- snippet:NAME --> marker"
                        + " (expected: <= " + allowed + "): quote the code from a test source, see DocSnippetsTest");
            }
        }
        return problems;
    }

    @Test
    void theCheckerReportsADriftedSnippetAMissingOneAndAnUnmarkedFence(@TempDir Path dir) throws IOException {
        assertEquals("a();\n    b();\n", dedent(List.of("        a();", "            b();   ")),
                "common indentation and trailing blanks go, relative indentation stays");
        Path docs = Files.createDirectories(dir.resolve("docs"));
        Path src = Files.createDirectories(dir.resolve("m/src/test/java/x"));
        Files.writeString(src.resolve("S.java"), "class S {\n    void f() {\n        // snippet:demo\n        int x = 1;\n"
                + "        // end-snippet\n    }\n}\n");
        assertEquals(Map.of("demo", "int x = 1;\n"), snippets(dir));
        Path doc = docs.resolve("a.md");
        Files.writeString(doc, "<!-- snippet:demo -->\n```java\nint x = 1;\n```\n");
        assertEquals(List.of(), problems(dir, Map.of(), false), "a verbatim quote passes");
        Files.writeString(doc, "<!-- snippet:demo -->\n```java\nint x = 2;\n```\n\n<!-- snippet:gone -->\n```java\n```\n"
                + "```java\nint y;\n```\n");
        List<String> p = problems(dir, Map.of(), false);
        assertEquals(3, p.size(), p.toString());
        assertTrue(p.get(0).startsWith("a.md:2: snippet demo differs from its source"), p.get(0));
        assertTrue(p.get(1).startsWith("a.md:7: snippet gone is not in any test source"), p.get(1));
        assertTrue(p.get(2).startsWith("a.md: 1 ```java fences without a <!-- snippet:NAME --> marker"), p.get(2));
        problems(dir, Map.of("a.md", 1), true);
        assertTrue(Files.readString(doc).startsWith("<!-- snippet:demo -->\n```java\nint x = 1;\n```\n"),
                "-Dpagedkv.docs.write=true rewrites a drifted fence: " + Files.readString(doc));
    }
}
