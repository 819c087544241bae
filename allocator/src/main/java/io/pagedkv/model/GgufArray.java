package io.pagedkv.model;

import java.util.List;

/**
 * A GGUF metadata array: one element type and its elements (which may be arrays themselves).
 * Immutable and thread-safe.
 *
 * @param elementType the type of every element
 * @param elements the elements, each of {@code elementType}
 */
public record GgufArray(GgufType elementType, List<GgufValue> elements) {

    /** Checks that every element has the element type, and copies the list. */
    public GgufArray {
        if (elementType == null || elements == null) {
            throw new IllegalArgumentException("elementType: " + elementType + " (expected: non-null, with elements)");
        }
        elements = List.copyOf(elements);
        for (int i = 0; i < elements.size(); i++) {
            if (elements.get(i).type() != elementType) {
                throw new IllegalArgumentException("elements[" + i + "]: " + elements.get(i).type()
                        + " (expected: " + elementType + ")");
            }
        }
    }

    /** Number of elements. */
    public int size() {
        return elements.size();
    }
}
