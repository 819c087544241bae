package io.pagedkv.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The interleaving search accepts exactly the results some order of the model explains. */
class LinearizabilityTest {

    /** Appends its letter to a string register and returns the register's new content. */
    record Append(String letter) implements ParallelCommand<StringBuilder, Object> {
        @Override
        public Object onSystem(Object sut) {
            throw new UnsupportedOperationException("model only");
        }

        @Override
        public Object onModel(StringBuilder model) {
            return model.append(letter).toString();
        }
    }

    /** Only allowed while the register is shorter than 2. */
    record Guarded(String letter) implements ParallelCommand<StringBuilder, Object> {
        @Override
        public boolean precondition(StringBuilder model) {
            return model.length() < 2;
        }

        @Override
        public Object onSystem(Object sut) {
            throw new UnsupportedOperationException("model only");
        }

        @Override
        public Object onModel(StringBuilder model) {
            return model.append(letter).toString();
        }
    }

    static StringBuilder explain(List<ParallelCommand<StringBuilder, Object>> prefix,
            List<List<ParallelCommand<StringBuilder, Object>>> branches, Object[][] observed) {
        return Linearizability.explain(StringBuilder::new, prefix, branches, observed);
    }

    @Test
    void resultsOfSomeInterleavingAreExplainedAndTheFinalModelReturned() {
        List<List<ParallelCommand<StringBuilder, Object>>> branches =
                List.of(List.of(new Append("a"), new Append("b")), List.of(new Append("c")));
        StringBuilder end = explain(List.of(new Append("p")), branches,
                new Object[][] {{"pca", "pcab"}, {"pc"}});
        assertNotNull(end);
        assertEquals("pcab", end.toString());
        assertNotNull(explain(List.of(), branches, new Object[][] {{"a", "ab"}, {"abc"}}));
    }

    @Test
    void resultsNoInterleavingGivesAreRejected() {
        List<List<ParallelCommand<StringBuilder, Object>>> branches =
                List.of(List.of(new Append("a"), new Append("b")), List.of(new Append("c")));
        assertNull(explain(List.of(), branches, new Object[][] {{"a", "ab"}, {"c"}}), "c cannot see an empty register and a see one too");
        assertNull(explain(List.of(), branches, new Object[][] {{"b", "ba"}, {"bac"}}), "branch order is kept");
    }

    @Test
    void anInterleavingThatBreaksAPreconditionDoesNotCount() {
        List<List<ParallelCommand<StringBuilder, Object>>> branches =
                List.of(List.of(new Append("a"), new Append("b")), List.of(new Guarded("c")));
        assertNull(explain(List.of(), branches, new Object[][] {{"a", "ab"}, {"abc"}}), "c only runs while length < 2");
        assertNotNull(explain(List.of(), branches, new Object[][] {{"a", "acb"}, {"ac"}}));
    }
}
