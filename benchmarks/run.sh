#!/usr/bin/env bash
# Runs the JMH benchmarks: benchmarks/run.sh short|full|pool
#   short: every benchmark's smallest case, 1 fork, one 200 ms warmup and one 200 ms measured
#          iteration (a few minutes);
#          a smoke run: its times are not for quoting.
#   pool:  only the block pool's rows (BlockPoolBenchmark: the three threading modes against a bare free
#          stack; ThroughputResults --full: allocate + free pairs against Netty and Arena at three
#          block sizes on 1 and 2 threads, and the token write), at the full settings, with the load
#          average before and after; tables to benchmarks/results/ (about 10 minutes).
#   full:  the settings benchmarks/RESULTS.md quotes (the benchmarks' own annotations: 1 fork, warmup
#          and measured iterations of 1 s); writes the fragmentation and throughput tables and the
#          chart to benchmarks/results/.
# Always fail-on-error (-foe true): a benchmark that throws fails this script.
# Finds a JDK 25 like ./pagedkv; builds benchmarks/target/benchmarks.jar when missing or older than
# the sources. Extra JVM flags for the JMH launcher go in BENCH_JAVA_OPTS, e.g.
# BENCH_JAVA_OPTS=-Djmh.ignoreLock=true when another JMH run on the machine holds /tmp/jmh.lock.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-}"
case "$mode" in
  short|full|pool) ;;
  *) echo "usage: benchmarks/run.sh short|full|pool (got: '${mode}')" >&2; exit 2 ;;
esac
. "$root/.ci/find-jdk25.sh"
pagedkv_find_jdk25
jar="$root/benchmarks/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root" -path "$root/*/target" -prune -o \( -name '*.java' -o -name pom.xml \) -newer "$jar" -print -quit)" ]; then
  echo "run.sh: building $jar ..." >&2
  (cd "$root" && ./mvnw -q -B -DskipTests package -pl benchmarks -am) >&2
fi
# shellcheck disable=SC2206
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
      -Djava.awt.headless=true ${BENCH_JAVA_OPTS:-})
out="$root/benchmarks/results"
jmh() {
  echo "== jmh $*" >&2
  "${java[@]}" -jar "$jar" -foe true "$@"
}
echo "run.sh $mode: JAVA_HOME=$JAVA_HOME ($("$JAVA_HOME/bin/java" -version 2>&1 | head -1)), $(nproc) cores" >&2
if [ "$mode" = pool ]; then
  echo "load average before: $(cat /proc/loadavg)" >&2
  jmh '\.BlockPoolBenchmark\.' -rf text -rff "$out/blockpool.txt"
  echo "== throughput --full" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.throughput.ThroughputResults --full --out "$out"
  echo "load average after: $(cat /proc/loadavg)" >&2
elif [ "$mode" = short ]; then
  q=(-f 1 -wi 1 -w 200ms -i 1 -r 200ms)
  jmh '\.BlockPoolBenchmark\.' "${q[@]}"
  jmh '\.PrefixCacheBenchmark\.' "${q[@]}" -p promptTokens=512
  jmh '\.ScalarCodecBenchmark\.' "${q[@]}" -p dtype=f16
  jmh '\.VectorCodecBenchmark\.' "${q[@]}" -p dtype=bf16
  jmh '\.DecodeAttentionBenchmark\.' "${q[@]}" -p tokens=1024 -p dtype=f16
  jmh '\.EvictionStepBenchmark\.' "${q[@]}" -p context=4096 -p policy=window -p budget=fixed
  jmh '\.FragmentationBenchmark\.' "${q[@]}" -p workload=alpaca -p allocator=paged-16 -p requests=200
  echo "== throughput --short" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.throughput.ThroughputResults --short
  echo "== tiers --short" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.tier.TierResults --short
else
  jmh '\.(BlockPoolBenchmark|PrefixCacheBenchmark|ScalarCodecBenchmark|VectorCodecBenchmark|DecodeAttentionBenchmark|EvictionStepBenchmark)\.'
  echo "== fragmentation --full" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.fragmentation.FragmentationResults --full --out "$out"
  echo "== throughput --full" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.throughput.ThroughputResults --full --out "$out"
  echo "== tiers --full" >&2
  "${java[@]}" -cp "$jar" io.pagedkv.benchmarks.tier.TierResults --full --out "$out"
fi
