package io.pagedkv.examples.llama;

import java.io.ByteArrayOutputStream;
import io.pagedkv.model.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A llama2.c tokenizer ({@code tokenizer.bin}): a vocabulary of byte strings with merge scores.
 *
 * <p>File format, little-endian: int32 {@code max_token_length}, then per token a float32 score, an
 * int32 byte length and that many bytes of UTF-8. Token 0 is {@code <unk>}, 1 is BOS, 2 is EOS and
 * tokens {@code <0x00>..<0xFF>} at ids 3..258 are the byte fallback.
 *
 * <p>{@link #encode} works as llama2.c does: an optional BOS, a dummy-prefix space token when the
 * text is not empty, one token per UTF-8 code point (its bytes' fallback tokens when the code point
 * is not in the vocabulary), then it repeatedly merges the adjacent pair whose concatenation is in
 * the vocabulary with the highest score. {@link #decode} maps ids back to bytes (a leading space
 * after BOS dropped, {@code <0xXX>} pieces as raw bytes) and reads them as UTF-8.
 *
 * <p>Immutable and thread-safe.
 */
public final class Tokenizer {

    /** Id of the unknown token. */
    public static final int UNK = 0;
    /** Id of the beginning-of-sequence token. */
    public static final int BOS = 1;
    /** Id of the end-of-sequence token. */
    public static final int EOS = 2;
    /** Id of the byte-fallback token for byte 0x00. */
    public static final int FIRST_BYTE_TOKEN = 3;

    /** Pieces as Latin-1 strings, one char per byte, so lookups are byte-exact. */
    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids;

    /** A tokenizer over {@code pieces} (raw bytes per token) and their merge {@code scores}. */
    public Tokenizer(List<byte[]> pieces, float[] scores) {
        if (pieces.size() != scores.length) {
            throw new IllegalArgumentException("pieces: " + pieces.size() + " (expected: as many as scores " + scores.length + ")");
        }
        this.pieces = new String[pieces.size()];
        this.scores = scores.clone();
        this.ids = new HashMap<>();
        for (int i = 0; i < this.pieces.length; i++) {
            this.pieces[i] = new String(pieces.get(i), StandardCharsets.ISO_8859_1);
            ids.putIfAbsent(this.pieces[i], i);
        }
    }

    /**
     * Reads a llama2.c tokenizer file with {@code vocabSize} tokens.
     *
     * @throws ModelFormatException naming the file, the byte offset and what was expected, if the file
     *     ends early or holds an impossible length
     * @throws IOException if the file cannot be read
     */
    public static Tokenizer read(Path file, int vocabSize) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < 4) {
            throw new ModelFormatException(file + ": ends at byte " + in.remaining()
                    + " (expected: an int32 max_token_length, then " + vocabSize + " tokens)");
        }
        in.getInt(); // max_token_length, only a buffer size hint in llama2.c
        List<byte[]> pieces = new ArrayList<>(vocabSize);
        float[] scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            if (in.remaining() < 8) {
                throw new ModelFormatException(file + ": ends at byte " + in.limit() + " after " + i
                        + " tokens (expected: " + vocabSize + " tokens, the model's vocabulary)");
            }
            scores[i] = in.getFloat();
            int at = in.position();
            int len = in.getInt();
            if (len < 0 || len > in.remaining()) {
                throw new ModelFormatException(file + ": at byte " + at + ": token " + i + " has length " + len
                        + " (expected: 0 <= length <= " + in.remaining() + " remaining bytes; not a llama2.c"
                        + " tokenizer?)");
            }
            byte[] b = new byte[len];
            in.get(b);
            pieces.add(b);
        }
        return new Tokenizer(pieces, scores);
    }

    /** Tokens in the vocabulary. */
    public int vocabSize() {
        return pieces.length;
    }

    /** The raw bytes of token {@code id}. */
    public byte[] piece(int id) {
        checkId(id);
        return pieces[id].getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Encodes {@code text}, with BOS first when {@code bos}, as llama2.c does. */
    public int[] encode(String text, boolean bos) {
        List<Integer> tokens = new ArrayList<>();
        if (bos) {
            tokens.add(BOS);
        }
        if (!text.isEmpty()) {
            Integer space = ids.get(" ");
            if (space != null) {
                tokens.add(space);
            }
        }
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int i = 0;
        while (i < utf8.length) {
            int len = codePointLength(utf8[i]);
            int end = Math.min(utf8.length, i + len);
            Integer id = ids.get(new String(utf8, i, end - i, StandardCharsets.ISO_8859_1));
            if (id != null) {
                tokens.add(id);
            } else {
                for (int j = i; j < end; j++) {
                    tokens.add(FIRST_BYTE_TOKEN + (utf8[j] & 0xFF));
                }
            }
            i = end;
        }
        while (true) {
            float bestScore = Float.NEGATIVE_INFINITY;
            int bestId = -1;
            int bestIndex = -1;
            for (int t = 0; t + 1 < tokens.size(); t++) {
                Integer id = ids.get(pieces[tokens.get(t)] + pieces[tokens.get(t + 1)]);
                if (id != null && scores[id] > bestScore) {
                    bestScore = scores[id];
                    bestId = id;
                    bestIndex = t;
                }
            }
            if (bestIndex < 0) {
                break;
            }
            tokens.set(bestIndex, bestId);
            tokens.remove(bestIndex + 1);
        }
        int[] out = new int[tokens.size()];
        for (int t = 0; t < out.length; t++) {
            out[t] = tokens.get(t);
        }
        return out;
    }

    /** The text of {@code ids} as a decoder prints it, the first one following {@code previous}. */
    public String decode(int previous, int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prev = previous;
        for (int id : ids) {
            appendPiece(out, prev, id);
            prev = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The text of one token following {@code previous}. */
    public String decode(int previous, int id) {
        return decode(previous, new int[] {id});
    }

    /**
     * Appends the bytes of token {@code id} following {@code previous} to {@code out}, as
     * {@link #decode} joins them: an engine that streams text collects these bytes and decodes
     * only whole UTF-8 characters, since a character may span several byte-fallback tokens.
     */
    public void appendBytes(ByteArrayOutputStream out, int previous, int id) {
        appendPiece(out, previous, id);
    }

    private void appendPiece(ByteArrayOutputStream out, int previous, int id) {
        checkId(id);
        String p = pieces[id];
        if (previous == BOS && p.startsWith(" ")) {
            p = p.substring(1);
        }
        if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")
                && Character.digit(p.charAt(3), 16) >= 0 && Character.digit(p.charAt(4), 16) >= 0) {
            out.write(Character.digit(p.charAt(3), 16) * 16 + Character.digit(p.charAt(4), 16));
            return;
        }
        byte[] bytes = p.getBytes(StandardCharsets.ISO_8859_1);
        out.write(bytes, 0, bytes.length);
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IndexOutOfBoundsException("token: " + id + " (expected: 0 <= token < " + pieces.length + ")");
        }
    }

    private static int codePointLength(byte lead) {
        int b = lead & 0xFF;
        if (b < 0x80) {
            return 1;
        }
        if (b >= 0xF0) {
            return 4;
        }
        if (b >= 0xE0) {
            return 3;
        }
        if (b >= 0xC0) {
            return 2;
        }
        return 1; // a stray continuation byte stands alone
    }
}
