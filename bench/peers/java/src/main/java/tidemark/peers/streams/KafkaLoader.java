package tidemark.peers.streams;

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import tidemark.peers.Args;
import tidemark.peers.Meta;

/**
 * Produces an events file into a new one-partition topic, in file order, each record's
 * timestamp its dateTime, then the sentinels:
 * `KafkaLoader --bootstrap HOST:PORT --topic T --events FILE.ndjson`. Prints a LOADED line.
 */
public final class KafkaLoader {
  /**
   * The records' timestamps are the events' dateTimes, which can lie weeks in the past: with the
   * broker's default time retention (7 days) it would delete the topic's segments under the
   * running application. The bench's topics keep their records.
   */
  static final Map<String, String> KEEP_FOREVER = Map.of("retention.ms", "-1");

  private KafkaLoader() {}

  public static void main(String[] argv) throws Exception {
    Args args = new Args(argv);
    String bootstrap = args.need("bootstrap");
    String topic = args.need("topic");
    String file = args.need("events");
    Meta meta = Meta.of(file);
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(ap)) {
      if (!admin.listTopics().names().get().contains(topic)) admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(KEEP_FOREVER))).all().get();
      admin.describeTopics(Set.of(topic)).allTopicNames().get();
    }
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.ACKS_CONFIG, "all");
    pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    pp.put(ProducerConfig.LINGER_MS_CONFIG, "10");
    pp.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(512 * 1024));
    long start = System.nanoTime();
    long n = 0;
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer());
         BufferedReader in = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) continue;
        n++;
        producer.send(new ProducerRecord<>(topic, null, dateTimeOf(line, file, n), null, line));
      }
      for (int i = 0; i < 2; i++) {
        long t = Sentinel.dateTime(meta.lastDateTime, meta.maxDelayMs, i);
        for (String sentinel : Sentinel.lines(t)) producer.send(new ProducerRecord<>(topic, null, t, null, sentinel));
      }
      producer.flush();
    }
    if (n != meta.events) throw new IllegalStateException(file + ": " + n + " events, its meta.json says " + meta.events);
    System.out.printf("LOADED {\"events\":%d,\"seconds\":%.3f}%n", n, (System.nanoTime() - start) / 1e9);
  }

  /** The event's dateTime: the first "dateTime" member of the line (each event object has exactly one). */
  static long dateTimeOf(String line, String file, long lineNo) {
    int i = line.indexOf("\"dateTime\":");
    if (i < 0) throw new IllegalArgumentException(file + ":" + lineNo + ": no dateTime");
    long v = 0;
    for (int j = i + 11; j < line.length() && Character.isDigit(line.charAt(j)); j++) v = v * 10 + (line.charAt(j) - '0');
    return v;
  }
}
