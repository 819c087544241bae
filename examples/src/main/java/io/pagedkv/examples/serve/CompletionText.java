package io.pagedkv.examples.serve;

import io.pagedkv.examples.llama.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The text of one completion as its tokens arrive: token bytes are joined and decoded only up to
 * the last whole UTF-8 character (a character may span byte-fallback tokens); stop strings end
 * the text before their first occurrence; {@link #takeDelta()} hands out only text that no stop
 * string can still claim, so a streamed completion never shows the start of a stop string it then
 * retracts. Without a tokenizer, tokens are written as their ids separated by spaces. Not
 * thread-safe: the engine gives it to one thread at a time.
 */
final class CompletionText {

    private final Tokenizer tokenizer;
    private final List<String> stops;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final StringBuilder text = new StringBuilder();
    private int decodedBytes;
    private int previous;
    private int emitted;
    private boolean stopped;

    /**
     * The text after a prompt ending with token {@code lastPromptToken}.
     *
     * @param tokenizer null: tokens are shown as ids
     */
    CompletionText(Tokenizer tokenizer, int lastPromptToken, List<String> stops) {
        this.tokenizer = tokenizer;
        this.previous = lastPromptToken;
        this.stops = stops;
    }

    /**
     * Adds a generated token.
     *
     * @return true when a stop string now ends the text (it is cut before the stop string)
     */
    boolean add(int id) {
        if (stopped) {
            throw new IllegalStateException("text: stopped (expected: no token after a stop string)");
        }
        int scanFrom = text.length();
        if (tokenizer == null) {
            if (previous >= 0 && !text.isEmpty()) {
                text.append(' ');
            }
            text.append(id);
        } else {
            tokenizer.appendBytes(bytes, previous, id);
            decode(false);
        }
        previous = id;
        return findStop(scanFrom);
    }

    /** Decodes every pending byte, incomplete characters too (as U+FFFD): the completion ended. */
    void finish() {
        if (tokenizer != null && !stopped) {
            decode(true);
            findStop(0);
        }
    }

    /** Whether a stop string ended the text. */
    boolean stopped() {
        return stopped;
    }

    /** The text so far (cut before a stop string once one matched). */
    String text() {
        return text.toString();
    }

    /**
     * The text not handed out yet that no stop string can still claim: all of it once the text
     * stopped or finished, otherwise all but the longest tail that begins a stop string.
     */
    String takeDelta() {
        int end = text.length() - (stopped ? 0 : heldBack());
        if (end <= emitted) {
            return "";
        }
        String d = text.substring(emitted, end);
        emitted = end;
        return d;
    }

    /** Like {@link #takeDelta()} but with nothing held back: the completion ended. */
    String takeRest() {
        String d = text.substring(Math.min(emitted, text.length()));
        emitted = text.length();
        return d;
    }

    private void decode(boolean all) {
        byte[] b = bytes.toByteArray();
        int end = all ? b.length : completeEnd(b);
        if (end > decodedBytes) {
            text.append(new String(b, decodedBytes, end - decodedBytes, StandardCharsets.UTF_8));
            decodedBytes = end;
        }
    }

    /** The end of the last whole UTF-8 character in {@code b}. */
    private static int completeEnd(byte[] b) {
        int n = b.length;
        for (int i = n - 1; i >= Math.max(0, n - 4); i--) {
            int v = b[i] & 0xFF;
            if ((v & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for its lead
            }
            int len = v < 0x80 ? 1 : v >= 0xF0 ? 4 : v >= 0xE0 ? 3 : v >= 0xC0 ? 2 : 1;
            return i + len > n ? i : n;
        }
        return n;
    }

    private boolean findStop(int scanFrom) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s, Math.max(0, scanFrom - s.length() + 1));
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        if (best >= 0) {
            text.setLength(best);
            stopped = true;
        }
        return stopped;
    }

    /** Whether the text ends with the first {@code k} chars of {@code s}. */
    private boolean endsWith(String s, int k) {
        int base = text.length() - k;
        for (int j = 0; j < k; j++) {
            if (text.charAt(base + j) != s.charAt(j)) {
                return false;
            }
        }
        return true;
    }

    private int heldBack() {
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length()); k > hold; k--) {
                if (endsWith(s, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }
}
