package cohortbench.flink;

/**
 * One event the windows did not count, so that the benchmark can still
 * account for every message: "late" (its window had fired, allowed
 * lateness included) or "invalid" (see EventDeserializer).
 */
public class DroppedRow {
  public String reason;
  public long windowStart; // the window it belonged to; 0 when invalid
  public String key;

  public DroppedRow() {}

  DroppedRow(String reason, long windowStart, String key) {
    this.reason = reason;
    this.windowStart = windowStart;
    this.key = key;
  }
}
