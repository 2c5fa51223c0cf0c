package cohortbench.flink;

import java.util.HashSet;
import org.apache.flink.api.common.functions.AggregateFunction;

/**
 * Counts the events of one (cohort key, window) and its distinct users,
 * exactly: the window state holds every user token seen, until the window
 * fires (with allowed lateness, until it is purged).
 */
final class CountUsers implements AggregateFunction<Event, CountUsers.Acc, CountUsers.Acc> {
  private static final long serialVersionUID = 1L;

  /** The window's keyed state. */
  public static class Acc {
    public long events;
    public HashSet<String> users = new HashSet<>();

    public Acc() {}
  }

  @Override
  public Acc createAccumulator() {
    return new Acc();
  }

  @Override
  public Acc add(Event e, Acc acc) {
    acc.events++;
    acc.users.add(e.user);
    return acc;
  }

  @Override
  public Acc getResult(Acc acc) {
    return acc;
  }

  @Override
  public Acc merge(Acc a, Acc b) {
    a.events += b.events;
    a.users.addAll(b.users);
    return a;
  }
}
