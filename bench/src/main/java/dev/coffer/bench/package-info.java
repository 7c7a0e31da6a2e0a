/**
 * JMH microbenchmarks of the data path, for work on the codec itself: JMH's forks, warm-up and
 * statistics make small differences visible that {@code coffer bench} (a quick health figure for
 * operators) would blur. Run with {@code mvn -pl bench -am -Pjmh verify} (docs/benchmarks.md).
 */
package dev.coffer.bench;
