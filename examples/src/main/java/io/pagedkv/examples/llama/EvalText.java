package io.pagedkv.examples.llama;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The public-domain text of the streaming evaluation and of the quality prompts: Genesis chapters 1
 * to 12 of the King James Version (1611; public domain, except in the United Kingdom where the Crown's
 * letters patent apply), as Debian's {@code bible-kjv-text} package (4.38) prints it with {@code bible
 * gen1:1-50:26}, verse numbers dropped, the verses of a chapter joined by a space, one chapter per line
 * (37,570 bytes; how to regenerate it: docs/streaming.md). Token ids come from the model's own
 * tokenizer, so they are derived, never stored. Immutable and thread-safe.
 */
public final class EvalText {

    /** The resource, next to this class. */
    public static final String RESOURCE = "kjv-genesis-1-12.txt";

    private static final String TEXT = load();

    private EvalText() {
    }

    private static String load() {
        try (InputStream in = EvalText.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " (expected: next to " + EvalText.class.getName() + ")");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The whole text: 12 chapters, one per line. */
    public static String text() {
        return TEXT;
    }

    /** The chapters, in order. */
    public static List<String> chapters() {
        return TEXT.lines().toList();
    }

    /**
     * The stream of the evaluation: BOS, then each chapter encoded on its own ({@code tok.encode(chapter,
     * false)}, which starts with llama2.c's dummy-prefix space, so chapters are joined by a space), cut
     * to {@code tokens} ids. Encoding chapter by chapter keeps llama2.c's quadratic merge loop fast.
     *
     * @throws IllegalArgumentException if {@code tokens < 2} or the text has fewer tokens
     */
    public static int[] stream(Tokenizer tok, int tokens) {
        if (tokens < 2) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 2)");
        }
        int[] out = new int[tokens];
        out[0] = Tokenizer.BOS;
        int n = 1;
        for (String chapter : chapters()) {
            if (n == tokens) {
                break;
            }
            int[] ids = tok.encode(chapter, false);
            int take = Math.min(ids.length, tokens - n);
            System.arraycopy(ids, 0, out, n, take);
            n += take;
        }
        if (n < tokens) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: <= " + n + ", the whole text)");
        }
        return out;
    }

    /**
     * {@code count} prompts of exactly {@code length} ids each (BOS first), from consecutive,
     * non-overlapping runs of whole sentences: prompt {@code i} starts at the sentence after the last
     * one prompt {@code i - 1} used, and is encoded on its own, so each reads as a fresh document.
     *
     * @throws IllegalArgumentException if {@code count <= 0}, {@code length < 2}, or the text runs out
     */
    public static List<int[]> prompts(Tokenizer tok, int count, int length) {
        if (count <= 0 || length < 2) {
            throw new IllegalArgumentException("count, length: " + count + ", " + length + " (expected: > 0 and >= 2)");
        }
        List<String> sentences = new ArrayList<>();
        for (String chapter : chapters()) {
            sentences.addAll(Arrays.asList(chapter.split("(?<=[.?!]) ")));
        }
        List<int[]> prompts = new ArrayList<>();
        int next = 0;
        while (prompts.size() < count) {
            StringBuilder text = new StringBuilder();
            int[] ids = new int[0];
            while (ids.length < length) {
                if (next == sentences.size()) {
                    throw new IllegalArgumentException("count: " + count + " prompts of " + length + " tokens (expected: <= "
                            + prompts.size() + ", what the text holds)");
                }
                text.append(text.isEmpty() ? "" : " ").append(sentences.get(next++));
                if (text.length() >= length) { // a token is at least one byte: shorter text cannot fill the prompt
                    ids = tok.encode(text.toString(), true);
                }
            }
            prompts.add(Arrays.copyOf(ids, length));
        }
        return prompts;
    }
}
