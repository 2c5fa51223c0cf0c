package cohortbench.flink;

/** One (cohort key, window) result: the row the job writes to ClickHouse. */
public class WindowRow {
  public long windowStart; // Unix epoch milliseconds
  public String key;
  public long events;
  public long users; // distinct user tokens

  public WindowRow() {}
}
