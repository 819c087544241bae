#!/usr/bin/env bash
# Runs the JMH benchmarks: benchmarks/run.sh short|full [all|attention|codecs|pool|prefix|write], or benchmarks/run.sh pool
#   short: every benchmark's smallest case, 1 fork, one 200 ms warmup and one 200 ms measured
#          iteration (a few minutes);
#          a smoke run: its times are not for quoting.
#   pool:  only the block pool's rows (BlockPoolBenchmark: the three threading modes against a bare free
#          stack; ThroughputResults --full: allocate + free pairs against Netty and Arena at three
#          block sizes on 1 and 2 threads, and the token write), at the full settings, with the load
#          average before and after; tables to benchmarks/results/ (about 10 minutes). Same as
#          "full pool".
#   full:  the settings benchmarks/RESULTS.md quotes (the benchmarks' own annotations: 1 fork, warmup
#          and measured iterations of 1 s); writes the fragmentation, throughput, attention and codec
#          tables and the chart to benchmarks/results/.
#   The optional section runs one part only, with its ratio table (load average noted before and after);
#   its short mode keeps three 1 s warm-ups (the Vector API is hundreds of times slower until C2 compiles it):
#     attention: AttentionRatioReport (paged vs the same loops over contiguous segments vs a segment
#                scan of the same K/V bytes: per case 5 forks of `alternating`, the two kernels in turn
#                in one JVM, 12 warmups of 500 ms + 40 iterations of 250 ms, each paged iteration over its
#                contiguous neighbours a pair, the median of the forks' median pair ratios; scan, FMA floor
#                and the scalar kernel 1 fork) and SmallHeadAttentionBenchmark;
#                ~20 min full on a quiet machine; short: 1 fork, 1 pair
#     codecs:    CodecRatioReport (Java scalar, Java vector and the native C anchor in one run; vector and C in
#                three passes, one fork each, the median of the three forks); ~7 min full, short: one pass
#     prefix:    PrefixCostReport (PrefixCacheBenchmark: hit lookup, its hashing, commit, per block, at 512 and
#                8192 prompt tokens; issue 27 goal 3); ~3 min full
#     write:     TokenWriteBenchmark (one token's K/V for all layers: the bulk writer, the per-sequence API, the
#                per-head and per-token-run raw copies and a flat copy, F16/BF16/F32; issue 27 goal 5), table to
#                benchmarks/results/tokenwrite.txt; ~3 min full
# The native C anchor (benchmarks/src/main/c/kvcodecs.c) is built into benchmarks/target/native/ with
# gcc -O3 -march=native when gcc is on the PATH; without gcc the C columns stay empty. ./mvnw verify
# never needs it.
# Always fail-on-error (-foe true): a benchmark that throws fails this script.
# Finds a JDK 25 like ./pagedkv; builds benchmarks/target/benchmarks.jar when missing or older than
# the sources. Extra JVM flags for the JMH launcher go in BENCH_JAVA_OPTS, e.g.
# BENCH_JAVA_OPTS=-Djmh.ignoreLock=true when another JMH run on the machine holds /tmp/jmh.lock.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-}"
section="${2:-all}"
if [ "$mode" = pool ]; then
  mode=full
  section=pool
fi
case "$mode" in
  short|full) ;;
  *) echo "usage: benchmarks/run.sh short|full [all|attention|codecs|pool|prefix|write] (got: '${mode}')" >&2; exit 2 ;;
esac
case "$section" in
  all|attention|codecs|pool|prefix|write) ;;
  *) echo "usage: benchmarks/run.sh short|full [all|attention|codecs|pool|prefix|write] (got section: '${section}')" >&2; exit 2 ;;
esac
. "$root/.ci/find-jdk25.sh"
pagedkv_find_jdk25
jar="$root/benchmarks/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root" -path "$root/*/target" -prune -o \( -name '*.java' -o -name pom.xml \) -newer "$jar" -print -quit)" ]; then
  echo "run.sh: building $jar ..." >&2
  (cd "$root" && ./mvnw -q -B -DskipTests package -pl benchmarks -am) >&2
fi
lib="$root/benchmarks/target/native/libkvcodecs.so"
csrc="$root/benchmarks/src/main/c/kvcodecs.c"
if command -v gcc >/dev/null 2>&1; then
  if [ ! -f "$lib" ] || [ "$csrc" -nt "$lib" ]; then
    echo "run.sh: building the native anchor $lib (gcc -O3 -march=native) ..." >&2
    mkdir -p "$(dirname "$lib")"
    gcc -O3 -march=native -ffp-contract=off -shared -fPIC -o "$lib" "$csrc"
  fi
else
  echo "run.sh: no gcc: the native codec anchor is skipped (C columns stay empty)" >&2
  lib=""
fi
# shellcheck disable=SC2206
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
      -Djava.awt.headless=true ${lib:+-Dpagedkv.native.lib=$lib} ${BENCH_JAVA_OPTS:-})
out="$root/benchmarks/results"
jmh() {
  echo "== jmh $*" >&2
  "${java[@]}" -jar "$jar" -foe true "$@"
}
echo "run.sh $mode $section: JAVA_HOME=$JAVA_HOME ($("$JAVA_HOME/bin/java" -version 2>&1 | head -1)), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
report() { # report CLASS ARGS...: a ratio report (JMH Runner inside), load average before and after in its table
  echo "== $1" >&2
  local cls="$1"; shift
  "${java[@]}" -cp "$jar" "$cls" -foe true "$@"
}
if [ "$section" = attention ]; then
  if [ "$mode" = short ]; then
    report io.pagedkv.benchmarks.attention.AttentionRatioReport -p tokens=1024 -f 1 -wi 3 -w 1s -i 2 -r 1s
    jmh '\.SmallHeadAttentionBenchmark\.' -f 1 -wi 3 -w 1s -i 2 -r 1s -p tokens=512
  else
    report io.pagedkv.benchmarks.attention.AttentionRatioReport --out "$out"
    jmh '\.SmallHeadAttentionBenchmark\.'
  fi
  echo "run.sh: done, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  exit 0
fi
if [ "$section" = pool ]; then
  echo "load average before: $(cat /proc/loadavg)" >&2
  jmh '\.BlockPoolBenchmark\.' -rf text -rff "$out/blockpool.txt"
  echo "== throughput --full" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.throughput.ThroughputResults --full --out "$out"
  echo "load average after: $(cat /proc/loadavg)" >&2
  exit 0
fi
if [ "$section" = prefix ]; then
  if [ "$mode" = short ]; then
    report io.pagedkv.benchmarks.allocator.PrefixCostReport -f 1 -wi 1 -w 200ms -i 1 -r 200ms
  else
    report io.pagedkv.benchmarks.allocator.PrefixCostReport --out "$out"
  fi
  echo "run.sh: done, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  exit 0
fi
if [ "$section" = write ]; then
  echo "load average before: $(cat /proc/loadavg)" >&2
  if [ "$mode" = short ]; then
    jmh '\.TokenWriteBenchmark\.' -f 1 -wi 1 -w 200ms -i 1 -r 200ms
  else
    mkdir -p "$out"
    jmh '\.TokenWriteBenchmark\.' -rf text -rff "$out/tokenwrite.txt"
  fi
  echo "load average after: $(cat /proc/loadavg)" >&2
  exit 0
fi
if [ "$section" = codecs ]; then
  if [ "$mode" = short ]; then
    report io.pagedkv.benchmarks.codec.CodecRatioReport --passes 1 -f 1 -wi 3 -w 1s -i 2 -r 1s
  else
    report io.pagedkv.benchmarks.codec.CodecRatioReport --out "$out"
  fi
  echo "run.sh: done, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  exit 0
fi
if [ "$mode" = short ]; then
  q=(-f 1 -wi 1 -w 200ms -i 1 -r 200ms)
  jmh '\.BlockPoolBenchmark\.' "${q[@]}"
  jmh '\.PrefixCacheBenchmark\.' "${q[@]}" -p promptTokens=512
  jmh '\.ScalarCodecBenchmark\.' "${q[@]}" -p dtype=f16
  jmh '\.VectorCodecBenchmark\.' "${q[@]}" -p dtype=bf16
  jmh '\.DecodeAttentionBenchmark\.' "${q[@]}" -p tokens=1024 -p dtype=f16
  jmh '\.SmallHeadAttentionBenchmark\.' "${q[@]}" -p tokens=512 -p headDim=8
  if [ -n "$lib" ]; then jmh '\.NativeCodecBenchmark\.' "${q[@]}" -p dtype=q8_0 -jvmArgsPrepend "-Dpagedkv.native.lib=$lib"; fi
  jmh '\.EvictionStepBenchmark\.' "${q[@]}" -p context=4096 -p policy=window -p budget=fixed
  jmh '\.FragmentationBenchmark\.' "${q[@]}" -p workload=alpaca -p allocator=paged-16 -p requests=200
  echo "== throughput --short" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.throughput.ThroughputResults --short
  echo "== tiers --short" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.tier.TierResults --short
else
  jmh '\.(BlockPoolBenchmark|EvictionStepBenchmark)\.'
  report io.pagedkv.benchmarks.allocator.PrefixCostReport --out "$out"
  report io.pagedkv.benchmarks.attention.AttentionRatioReport --out "$out"
  jmh '\.SmallHeadAttentionBenchmark\.'
  report io.pagedkv.benchmarks.codec.CodecRatioReport --out "$out"
  echo "== fragmentation --full" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.fragmentation.FragmentationResults --full --out "$out"
  echo "== throughput --full" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.throughput.ThroughputResults --full --out "$out"
  echo "== tiers --full" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.tier.TierResults --full --out "$out"
fi
