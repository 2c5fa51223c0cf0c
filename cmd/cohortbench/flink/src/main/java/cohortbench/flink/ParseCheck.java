package cohortbench.flink;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.nio.charset.StandardCharsets;

/**
 * Prints how the job reads each line of its standard input, one line out
 * per line in: {@code valid TAB ts TAB user TAB key} for an event the job
 * windows, {@code invalid TAB TAB TAB key} for one it does not. The Go test
 * TestFlinkParserParity feeds it generated records, bad ones included, and
 * checks that the benchmark's own count of the topic (flink_truth.go) reads
 * them alike. Arguments: minTs maxTs.
 */
public final class ParseCheck {
  private ParseCheck() {}

  public static void main(String[] argv) throws IOException {
    EventDeserializer parser = new EventDeserializer(Long.parseLong(argv[0]), Long.parseLong(argv[1]));
    byte[] in = System.in.readAllBytes();
    PrintStream out = new PrintStream(new BufferedOutputStream(System.out), false, StandardCharsets.UTF_8);
    int start = 0;
    for (int i = 0; i < in.length; i++) {
      if (in[i] != '\n') {
        continue;
      }
      byte[] line = Arrays.copyOfRange(in, start, i);
      start = i + 1;
      Event e = parser.parse(line);
      if (e.valid) {
        out.print("valid\t" + e.ts + "\t" + e.user + "\t" + e.key + "\n");
      } else {
        out.print("invalid\t\t\t" + e.key + "\n");
      }
    }
    out.flush();
  }
}
