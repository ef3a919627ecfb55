package tidemark.peers;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a peer run reports: wall-clock times and the JVM's CPU time, printed as one line
 * `PEER-RESULT {json}` on standard output for bench/peers/run-peers.ts.
 */
public final class Measure {
  /** When the first event entered the pipeline (System.nanoTime), set once by the pipeline itself. */
  public static final AtomicLong FIRST_EVENT_NANOS = new AtomicLong(0);
  /** The JVM's CPU time at the first event, nanoseconds. */
  private static volatile long firstEventCpuNanos = -1;

  public final long startNanos = System.nanoTime();
  public final long startCpuNanos = cpuNanos();

  /** Marks the first event; later calls do nothing. Cheap enough for every record. */
  public static void firstEvent() {
    if (FIRST_EVENT_NANOS.get() == 0 && FIRST_EVENT_NANOS.compareAndSet(0, System.nanoTime())) firstEventCpuNanos = cpuNanos();
  }

  /** CPU time of this whole JVM (all threads: the job, JIT, GC), nanoseconds. */
  public static long cpuNanos() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) return sun.getProcessCpuTime();
    return -1;
  }

  /** Prints the result line; `extra` is more JSON members (without braces), or empty. */
  public void report(String peer, String query, long events, long rows, long endNanos, String extra) {
    report(peer, query, events, rows, endNanos, cpuNanos(), extra);
  }

  /** As above, with the CPU time taken at the end of the measured span (before draining results, say). */
  public void report(String peer, String query, long events, long rows, long endNanos, long endCpuNanos, String extra) {
    long first = FIRST_EVENT_NANOS.get();
    double elapsed = (endNanos - startNanos) / 1e9;
    double afterStart = first == 0 ? elapsed : (endNanos - first) / 1e9;
    double cpuWithStart = (endCpuNanos - startCpuNanos) / 1e9;
    double cpu = firstEventCpuNanos < 0 ? cpuWithStart : (endCpuNanos - firstEventCpuNanos) / 1e9;
    System.out.printf(
        "PEER-RESULT {\"peer\":\"%s\",\"query\":\"%s\",\"events\":%d,\"rows\":%d,\"elapsedS\":%.3f,\"elapsedAfterStartS\":%.3f,\"cpuS\":%.3f,\"cpuWithStartS\":%.3f%s}%n",
        peer, query, events, rows, elapsed, afterStart, cpu, cpuWithStart, extra.isEmpty() ? "" : "," + extra);
    System.out.flush();
  }
}
