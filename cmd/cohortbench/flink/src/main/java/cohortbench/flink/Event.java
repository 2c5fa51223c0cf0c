package cohortbench.flink;

/**
 * One Kafka message as the job sees it. A Flink POJO (public fields, a
 * no-argument constructor), so Flink serializes it without Kryo.
 */
public class Event {
  /** country|lang|age|platform, taken from the raw bytes as stage (c) does. */
  public String key;
  /** Event time, Unix epoch milliseconds; meaningful only when valid. */
  public long ts;
  /** The pseudonymous user token; never written anywhere. */
  public String user;
  /** Whether ts and user parsed and ts is in range: only valid events are windowed. */
  public boolean valid;

  public Event() {}
}
