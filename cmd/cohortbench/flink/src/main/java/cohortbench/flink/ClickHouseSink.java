package cohortbench.flink;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Inserts rows into ClickHouse with clickhouse-jdbc (HTTP), in batches of up
 * to batchSize rows. A batch is also sent at every checkpoint (flush is
 * called before the checkpoint barrier goes on) and at the end of input, so
 * a checkpoint never completes with rows only in memory: at least once, and
 * once in a run without failures (the benchmark checks for duplicate rows).
 */
abstract class ClickHouseSink<T> implements Sink<T> {
  private static final long serialVersionUID = 1L;

  private final String url;
  private final String insert;
  private final int batchSize;

  ClickHouseSink(String url, String insert, int batchSize) {
    this.url = url;
    this.insert = insert;
    this.batchSize = batchSize;
  }

  /** Sets the statement's parameters from row. */
  abstract void bind(PreparedStatement ps, T row) throws SQLException;

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) throws IOException {
    try {
      return new Writer(DriverManager.getConnection(url, new Properties()));
    } catch (SQLException e) {
      throw new IOException("connecting to ClickHouse at " + url + ": " + e.getMessage(), e);
    }
  }

  private final class Writer implements SinkWriter<T> {
    private final Connection conn;
    private final PreparedStatement ps;
    private int pending;

    Writer(Connection conn) throws SQLException {
      this.conn = conn;
      this.ps = conn.prepareStatement(insert);
    }

    @Override
    public void write(T row, Context context) throws IOException {
      try {
        bind(ps, row);
        ps.addBatch();
      } catch (SQLException e) {
        throw new IOException("adding a row to " + insert + ": " + e.getMessage(), e);
      }
      if (++pending >= batchSize) {
        flush(false);
      }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
      if (pending == 0) {
        return;
      }
      try {
        ps.executeBatch();
      } catch (SQLException e) {
        throw new IOException("inserting " + pending + " rows with " + insert + ": " + e.getMessage(), e);
      }
      pending = 0;
    }

    @Override
    public void close() throws Exception {
      ps.close();
      conn.close();
    }
  }

  /** The windows' results. */
  static final class Windows extends ClickHouseSink<WindowRow> {
    private static final long serialVersionUID = 1L;

    Windows(String url, String table) {
      super(url, "INSERT INTO " + table + " (window_start, cohort_key, events, users) VALUES (?, ?, ?, ?)", 10_000);
    }

    @Override
    void bind(PreparedStatement ps, WindowRow r) throws SQLException {
      ps.setLong(1, r.windowStart);
      ps.setString(2, r.key);
      ps.setLong(3, r.events);
      ps.setLong(4, r.users);
    }
  }

  /** The events no window counted. */
  static final class Dropped extends ClickHouseSink<DroppedRow> {
    private static final long serialVersionUID = 1L;

    Dropped(String url, String table) {
      super(url, "INSERT INTO " + table + " (reason, window_start, cohort_key, events) VALUES (?, ?, ?, ?)", 10_000);
    }

    @Override
    void bind(PreparedStatement ps, DroppedRow r) throws SQLException {
      ps.setString(1, r.reason);
      ps.setLong(2, r.windowStart);
      ps.setString(3, r.key);
      ps.setLong(4, 1);
    }
  }
}
