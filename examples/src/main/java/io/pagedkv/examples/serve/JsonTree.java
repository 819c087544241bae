package io.pagedkv.examples.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a JSON document into plain Java values with jackson-core's streaming parser: objects as
 * {@code Map<String, Object>} (insertion order, a repeated key keeps its last value), arrays as
 * {@code List<Object>}, strings, {@link Long} for integers that fit (a {@link java.math.BigInteger}
 * otherwise), {@link Double} for other numbers, {@link Boolean} and {@code null}. Nesting deeper
 * than {@value #MAX_DEPTH} and anything after the root value are refused. Stateless and thread-safe.
 */
public final class JsonTree {

    /** Deepest nesting of objects and arrays accepted. */
    public static final int MAX_DEPTH = 16;

    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonTree() {
    }

    /**
     * Parses {@code json}.
     *
     * @throws ApiException 400 naming the position when it is not one well-formed JSON value
     */
    public static Object parse(byte[] json) {
        try (JsonParser p = FACTORY.createParser(json)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw ApiException.badRequest(null, "request body: empty (expected: a JSON object)");
            }
            Object root = read(p, t, 0);
            if (p.nextToken() != null) {
                throw ApiException.badRequest(null, "request body: content after the JSON value at "
                        + p.currentLocation().offsetDescription() + " (expected: one JSON value)");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "request body: malformed JSON: " + e.getOriginalMessage()
                    + " at " + (e.getLocation() == null ? "?" : e.getLocation().offsetDescription()));
        } catch (IOException e) {
            throw ApiException.badRequest(null, "request body: unreadable: " + e.getMessage());
        }
    }

    private static Object read(JsonParser p, JsonToken t, int depth) throws IOException {
        switch (t) {
            case START_OBJECT -> {
                checkDepth(p, depth);
                Map<String, Object> map = new LinkedHashMap<>();
                JsonToken k;
                while ((k = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    map.put(name, read(p, p.nextToken(), depth + 1));
                }
                if (k != JsonToken.END_OBJECT) {
                    throw ApiException.badRequest(null, "request body: unexpected " + k + " in an object");
                }
                return map;
            }
            case START_ARRAY -> {
                checkDepth(p, depth);
                List<Object> list = new ArrayList<>();
                JsonToken e;
                while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
                    if (e == null) {
                        throw ApiException.badRequest(null, "request body: unterminated array");
                    }
                    list.add(read(p, e, depth + 1));
                }
                return list;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT -> {
                return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : p.getLongValue();
            }
            case VALUE_NUMBER_FLOAT -> {
                return p.getDoubleValue();
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return null;
            }
            default -> throw ApiException.badRequest(null, "request body: unexpected token " + t);
        }
    }

    private static void checkDepth(JsonParser p, int depth) {
        if (depth >= MAX_DEPTH) {
            throw ApiException.badRequest(null, "request body: nesting deeper than " + MAX_DEPTH + " at "
                    + p.currentLocation().offsetDescription() + " (expected: <= " + MAX_DEPTH + ")");
        }
    }
}
