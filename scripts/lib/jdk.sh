# Sourced by the scripts: finds a JDK 25 or newer and exports JAVA_HOME for Maven.
# JAVA_HOME wins when it is 25+; otherwise the newest 25+ JDK under /usr/lib/jvm.

java_major() { # JAVA_BIN -> major version, or nothing
  "$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

find_jdk25() {
  local candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    major=$(java_major "$JAVA_HOME/bin/java")
    if [ "${major:-0}" -ge 25 ]; then return 0; fi
  fi
  for candidate in /usr/lib/jvm/*/; do
    candidate=${candidate%/}
    [ -x "$candidate/bin/javac" ] || continue
    major=$(java_major "$candidate/bin/java")
    if [ "${major:-0}" -ge 25 ] && [ "$major" -gt "$best_major" ]; then
      best=$candidate best_major=$major
    fi
  done
  if [ -z "$best" ]; then
    echo "error: Coffer needs a JDK 25 or newer and found none (JAVA_HOME=${JAVA_HOME:-unset}, nothing 25+ under /usr/lib/jvm)." >&2
    echo "       Install one, e.g. Temurin 25 from Adoptium's Debian repository (apt-get install temurin-25-jdk)," >&2
    echo "       or point JAVA_HOME at it." >&2
    return 1
  fi
  export JAVA_HOME=$best
}
