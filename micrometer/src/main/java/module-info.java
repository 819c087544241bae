/**
 * pagedkv's optional Micrometer binding: gauges and counters of a {@code PagedKvCache} and its prefix
 * cache, for servers that publish metrics through Micrometer (Prometheus, OTLP, JMX, ...). The core
 * modules do not depend on it.
 */
module io.pagedkv.micrometer {
    requires transitive io.pagedkv.allocator;
    requires transitive micrometer.core;

    exports io.pagedkv.micrometer;
}
