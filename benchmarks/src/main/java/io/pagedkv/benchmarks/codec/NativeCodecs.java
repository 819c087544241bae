package io.pagedkv.benchmarks.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one place that touches restricted FFM methods: loads the native codec anchor
 * ({@code benchmarks/src/main/c/kvcodecs.c}, built by {@code benchmarks/run.sh} into the file named by
 * system property {@value #LIB_PROP_NAME}) and hands out downcall handles
 * {@code void f(src, dst, long n)}. The handles are critical (no thread-state transition, heap arrays
 * passed in place), as a short leaf call into a C loop should be. Thread-safe (immutable).
 */
final class NativeCodecs {

    /** System property: the path of the built anchor library. */
    static final String LIB_PROP_NAME = "pagedkv.native.lib";

    private final SymbolLookup lookup;

    private NativeCodecs(SymbolLookup lookup) {
        this.lookup = lookup;
    }

    /**
     * Loads the library named by {@value #LIB_PROP_NAME}.
     *
     * @throws IllegalStateException if the property is unset or the file is missing (run {@code benchmarks/run.sh},
     *     which builds it when gcc is present)
     */
    @SuppressWarnings("restricted")
    static NativeCodecs load() {
        String path = System.getProperty(LIB_PROP_NAME);
        if (path == null || !Files.isRegularFile(Path.of(path))) {
            throw new IllegalStateException(LIB_PROP_NAME + ": " + path + " (expected: the native anchor built by"
                    + " benchmarks/run.sh with gcc, e.g. benchmarks/target/native/libkvcodecs.so)");
        }
        return new NativeCodecs(SymbolLookup.libraryLookup(Path.of(path), Arena.global()));
    }

    /** The downcall of {@code void name(const void *src, void *dst, int64_t n)}. */
    @SuppressWarnings("restricted")
    MethodHandle function(String name) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new IllegalStateException(
                "symbol " + name + " (expected: exported by " + System.getProperty(LIB_PROP_NAME) + ")"));
        return Linker.nativeLinker().downcallHandle(symbol,
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                Linker.Option.critical(true));
    }
}
