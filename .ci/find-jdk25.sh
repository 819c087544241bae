# Sourced by ./pagedkv and .ci/run: makes JAVA_HOME point at a JDK 25 or newer, or fails saying how.
pagedkv_java_feature() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1
}
pagedkv_find_jdk25() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(pagedkv_java_feature "$JAVA_HOME")
    if [ "${v:-0}" -ge 25 ] 2>/dev/null; then return 0; fi
  fi
  for d in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[5-9]* /usr/lib/jvm/*-2[5-9]* /usr/lib/jvm/*; do
    [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] || continue
    v=$(pagedkv_java_feature "$d")
    if [ "${v:-0}" -ge 25 ] 2>/dev/null; then export JAVA_HOME="$d"; return 0; fi
  done
  if command -v javac >/dev/null 2>&1; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(pagedkv_java_feature "$d")
    if [ "${v:-0}" -ge 25 ] 2>/dev/null; then export JAVA_HOME="$d"; return 0; fi
  fi
  echo "pagedkv needs a JDK 25 or newer: JAVA_HOME='${JAVA_HOME:-}' is not one and none was found in /usr/lib/jvm." >&2
  echo "Install one (e.g. Temurin 25) and run: export JAVA_HOME=/path/to/jdk-25" >&2
  return 1
}
