package cohortbench.flink;

import java.nio.charset.StandardCharsets;

/**
 * The cohort key of stage (c): country|lang|age|platform, each taken the way
 * ClickHouse 18.16's visitParamExtractString(line, name) takes it (the
 * string right after the first {@code "name":} anywhere in the line, empty
 * if none follows or it is not closed). The Go side (engine_keys.go,
 * visitParamString) does the same, so the three stages key every message
 * alike, bad records included.
 */
final class CohortKey {
  private static final byte[][] NEEDLES = {
    needle("country"), needle("lang"), needle("age"), needle("platform"),
  };

  private CohortKey() {}

  private static byte[] needle(String name) {
    return ("\"" + name + "\":").getBytes(StandardCharsets.US_ASCII);
  }

  static String of(byte[] line) {
    StringBuilder key = new StringBuilder(32);
    for (int i = 0; i < NEEDLES.length; i++) {
      if (i > 0) {
        key.append('|');
      }
      appendValue(key, line, NEEDLES[i]);
    }
    return key.toString();
  }

  private static void appendValue(StringBuilder key, byte[] line, byte[] needle) {
    int at = indexOf(line, needle, 0);
    if (at < 0) {
      return;
    }
    int start = at + needle.length;
    if (start >= line.length || line[start] != '"') {
      return;
    }
    start++;
    for (int end = start; end < line.length; end++) {
      if (line[end] == '"') {
        key.append(new String(line, start, end - start, StandardCharsets.UTF_8));
        return;
      }
    }
  }

  private static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = from; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
