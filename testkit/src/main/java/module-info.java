/** pagedkv testkit: seeded property-based and stateful testing with shrinking. */
module io.pagedkv.testkit {
    requires org.junit.jupiter.api;

    exports io.pagedkv.testkit;
}
