package cohortbench.flink;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.accumulators.LongMaximum;
import org.apache.flink.api.common.accumulators.LongMinimum;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Stage (d) of cmd/cohortbench: the Flink job a user would write to count
 * events and distinct users per cohort key and event-time window, from the
 * benchmark's topic into ClickHouse. Its main starts a local MiniCluster.
 *
 * <p>The source reads every partition from its earliest offset to the end
 * offsets it finds at start (bounded): the end of input then closes the last
 * windows, as stage (b)'s idle timeout does. Watermarks are per partition
 * (forBoundedOutOfOrderness in the source). When the job has finished, and
 * with it every insert, main prints one line
 * {@code cohortbench-flink: {...}} (see Done) and then waits for its
 * standard input to close, so that the benchmark can read the process's CPU
 * time and peak RSS first.
 */
public final class Job {
  private static final OutputTag<DroppedRow> INVALID = new OutputTag<>("invalid") {};
  private static final OutputTag<Event> LATE = new OutputTag<>("late") {};

  private Job() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = flags(argv);
    int parallelism = Integer.parseInt(a.get("parallelism"));
    long windowMs = Long.parseLong(a.get("window-ms"));
    String url = a.get("jdbc-url");

    Map<String, String> conf = new HashMap<>();
    conf.put("execution.checkpointing.storage", "filesystem");
    conf.put("execution.checkpointing.dir", "file://" + a.get("checkpoint-dir"));
    // The MiniCluster's servers (BLOB server, REST endpoint) on loopback only.
    conf.put("jobmanager.bind-host", "127.0.0.1");
    conf.put("taskmanager.bind-host", "127.0.0.1");
    conf.put("rest.bind-address", "127.0.0.1");
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createLocalEnvironment(parallelism, Configuration.fromMap(conf));
    env.enableCheckpointing(Long.parseLong(a.get("checkpoint-interval-ms")), CheckpointingMode.EXACTLY_ONCE);

    KafkaSource<Event> source = KafkaSource.<Event>builder()
        .setBootstrapServers(a.get("brokers"))
        .setTopics(a.get("topic"))
        .setGroupId(a.get("group"))
        .setStartingOffsets(OffsetsInitializer.earliest())
        .setBounded(OffsetsInitializer.latest())
        .setDeserializer(new EventDeserializer(Long.parseLong(a.get("min-ts")), Long.parseLong(a.get("max-ts"))))
        .build();
    WatermarkStrategy<Event> watermarks = WatermarkStrategy
        .<Event>forBoundedOutOfOrderness(Duration.ofMillis(Long.parseLong(a.get("max-out-of-order-ms"))))
        .withTimestampAssigner((e, previous) -> e.valid ? e.ts : Long.MIN_VALUE);

    SingleOutputStreamOperator<Event> valid = env
        .fromSource(source, watermarks, "kafka " + a.get("topic"))
        .process(new Split())
        .name("split valid/invalid");
    SingleOutputStreamOperator<WindowRow> windows = valid
        .keyBy(e -> e.key)
        .window(TumblingEventTimeWindows.of(Duration.ofMillis(windowMs)))
        .allowedLateness(Duration.ofMillis(Long.parseLong(a.get("allowed-lateness-ms"))))
        .sideOutputLateData(LATE)
        .aggregate(new CountUsers(), new EmitWindow())
        .name("count per cohort and window");
    windows.sinkTo(new ClickHouseSink.Windows(url, a.get("windows-table"))).name("ClickHouse windows");

    DataStream<DroppedRow> late = windows.getSideOutput(LATE)
        .map(e -> new DroppedRow("late", TimeWindow.getWindowStartWithOffset(e.ts, 0, windowMs), e.key))
        .name("late");
    late.union(valid.getSideOutput(INVALID))
        .sinkTo(new ClickHouseSink.Dropped(url, a.get("dropped-table"))).name("ClickHouse dropped");

    JobExecutionResult res = env.execute("cohortbench " + a.get("topic"));
    System.out.println("cohortbench-flink: {\"net_runtime_ms\":" + res.getNetRuntime()
        + ",\"records\":" + res.<Long>getAccumulatorResult("records")
        + ",\"first_record_ms\":" + res.<Long>getAccumulatorResult("first-record-ms")
        + ",\"last_record_ms\":" + res.<Long>getAccumulatorResult("last-record-ms") + "}");
    System.out.flush();
    waitForStdinEOF();
  }

  private static void waitForStdinEOF() throws IOException {
    byte[] buf = new byte[64];
    while (System.in.read(buf) >= 0) {
      // nothing: the benchmark closes our stdin when it has measured us
    }
  }

  /** --name value pairs; every flag is required. */
  private static Map<String, String> flags(String[] argv) {
    String[] required = {
      "brokers", "topic", "group", "parallelism", "jdbc-url", "windows-table", "dropped-table",
      "window-ms", "max-out-of-order-ms", "allowed-lateness-ms", "min-ts", "max-ts",
      "checkpoint-dir", "checkpoint-interval-ms",
    };
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (!argv[i].startsWith("--")) {
        throw new IllegalArgumentException("want --name value pairs, got " + argv[i]);
      }
      m.put(argv[i].substring(2), argv[i + 1]);
    }
    for (String r : required) {
      if (!m.containsKey(r)) {
        throw new IllegalArgumentException("missing --" + r);
      }
    }
    return m;
  }

  /**
   * Sends invalid events to a side output and counts every record, with the
   * wall-clock times of the first and the last (accumulators: they are
   * summed, min-ed and max-ed over the subtasks when the job ends).
   */
  static final class Split extends ProcessFunction<Event, Event> {
    private static final long serialVersionUID = 1L;
    private transient LongCounter records;
    private transient LongMinimum first;
    private transient LongMaximum last;

    @Override
    public void open(OpenContext ctx) {
      records = new LongCounter();
      first = new LongMinimum();
      last = new LongMaximum();
      getRuntimeContext().addAccumulator("records", records);
      getRuntimeContext().addAccumulator("first-record-ms", first);
      getRuntimeContext().addAccumulator("last-record-ms", last);
    }

    @Override
    public void processElement(Event e, Context ctx, Collector<Event> out) {
      long now = System.currentTimeMillis();
      if (records.getLocalValuePrimitive() == 0) {
        first.add(now);
      }
      records.add(1);
      last.add(now);
      if (e.valid) {
        out.collect(e);
      } else {
        ctx.output(INVALID, new DroppedRow("invalid", 0, e.key));
      }
    }
  }

  /** Turns a fired window's state into its row. */
  static final class EmitWindow extends ProcessWindowFunction<CountUsers.Acc, WindowRow, String, TimeWindow> {
    private static final long serialVersionUID = 1L;

    @Override
    public void process(String key, Context ctx, Iterable<CountUsers.Acc> accs, Collector<WindowRow> out) {
      for (CountUsers.Acc acc : accs) {
        WindowRow r = new WindowRow();
        r.windowStart = ctx.window().getStart();
        r.key = key;
        r.events = acc.events;
        r.users = acc.users.size();
        out.collect(r);
      }
    }
  }
}
