package cohortbench.flink;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Turns each Kafka message into an Event with Jackson's streaming parser:
 * only ts and user are read, every other value is skipped. A message that
 * is not one well-formed JSON object, or whose ts is not an integer in
 * [minTs, maxTs), or whose user is not a string, is an invalid Event: it is
 * counted, never windowed, and moves no watermark (a far-future ts would
 * otherwise make every later event late).
 */
final class EventDeserializer implements KafkaRecordDeserializationSchema<Event> {
  private static final long serialVersionUID = 1L;

  private final long minTs;
  private final long maxTs;
  private transient JsonFactory json;

  EventDeserializer(long minTs, long maxTs) {
    this.minTs = minTs;
    this.maxTs = maxTs;
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Event> out) {
    out.collect(parse(record.value()));
  }

  Event parse(byte[] line) {
    if (json == null) {
      json = new JsonFactory();
    }
    Event e = new Event();
    e.key = line == null ? "|||" : CohortKey.of(line);
    if (line == null) {
      return e;
    }
    boolean hasTs = false;
    try (JsonParser p = json.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return e;
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if ("ts".equals(name)) {
          hasTs = v == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER;
          if (hasTs) {
            e.ts = p.getLongValue();
          }
        } else if ("user".equals(name)) {
          e.user = v == JsonToken.VALUE_STRING ? p.getText() : null;
        } else {
          p.skipChildren();
        }
      }
      if (t != JsonToken.END_OBJECT) {
        return e;
      }
    } catch (IOException err) {
      e.user = null;
      return e;
    }
    e.valid = hasTs && e.user != null && e.ts >= minTs && e.ts < maxTs;
    if (!e.valid) {
      e.user = null;
    }
    return e;
  }

  @Override
  public TypeInformation<Event> getProducedType() {
    return TypeInformation.of(Event.class);
  }
}
