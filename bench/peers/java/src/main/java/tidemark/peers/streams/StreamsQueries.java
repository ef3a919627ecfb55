package tidemark.peers.streams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.Stores;
import tidemark.peers.Measure;
import tidemark.peers.model.Auction;
import tidemark.peers.model.Bid;
import tidemark.peers.model.Event;
import tidemark.peers.model.Person;
import tidemark.peers.model.Rows;

/**
 * The Nexmark queries as Kafka Streams topologies from the events topic (values: events-file
 * lines, timestamps: dateTime) to an output topic of result rows. Windowed queries use grace =
 * maxDelayMs and suppress(untilWindowCloses) so that every row is final.
 */
final class StreamsQueries {
  private static final Duration TEN_S = Duration.ofSeconds(10);
  private static final Duration TWO_S = Duration.ofSeconds(2);
  private static final BidSerde BIDS = new BidSerde();

  private StreamsQueries() {}

  /** The queries there are. */
  static final List<String> QUERIES = List.of("q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11", "q12");
  private static final Set<String> Q3_STATES = Set.of("OR", "ID", "CA");

  static void build(StreamsBuilder builder, String query, String input, String output, Duration grace) {
    KStream<String, String> lines = builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()));
    KStream<String, Bid> bids = lines
        .peek((k, v) -> Measure.firstEvent())
        .filter((k, v) -> v.startsWith("{\"bid\""))
        .mapValues(v -> Event.parse(v).bid);
    KStream<String, String> rows = switch (query) {
      case "q0" -> bids.mapValues(Bid::toJson);
      case "q1" -> bids.mapValues(b -> b.withPrice(Rows.dollarsToEuros(b.price)).toJson());
      case "q2" -> bids.filter((k, b) -> b.auction % 123 == 0).mapValues(Rows::q2);
      case "q3" -> q3(lines);
      case "q5" -> q5(builder, bids, grace);
      case "q7" -> q7(bids, grace);
      case "q8" -> q8(lines, grace);
      case "q11" -> q11(bids, grace);
      case "q12" -> q12(bids, grace);
      default -> throw new IllegalArgumentException("--query: no Kafka Streams topology for '" + query + "' (" + String.join(" ", QUERIES) + ")");
    };
    rows.to(output, Produced.with(Serdes.String(), Serdes.String()));
  }

  /**
   * Local item suggestion as a foreign-key join of two tables: auctions of category 10 (by
   * auction id, value the seller) with persons of OR, ID, CA (by person id, value the row's
   * first members). It emits when either side arrives, so an auction seen before its seller
   * is joined too; the last row per auction is compared.
   */
  private static KStream<String, String> q3(KStream<String, String> lines) {
    KTable<Long, String> persons = lines
        .filter((k, v) -> v.startsWith("{\"person\""))
        .mapValues(v -> Event.parse(v).person)
        .filter((k, p) -> Q3_STATES.contains(p.state))
        .map((k, p) -> KeyValue.pair(p.id, Rows.q3Person(p)))
        .toTable(Materialized.with(Serdes.Long(), Serdes.String()));
    KTable<Long, String> auctions = lines
        .filter((k, v) -> v.startsWith("{\"auction\""))
        .mapValues(v -> Event.parse(v).auction)
        .filter((k, a) -> a.category == 10)
        .map((k, a) -> KeyValue.pair(a.id, String.valueOf(a.seller)))
        .toTable(Materialized.with(Serdes.Long(), Serdes.String()));
    return auctions
        .join(persons, (String seller) -> Long.parseLong(seller), (seller, person) -> person, Materialized.with(Serdes.Long(), Serdes.String()))
        .toStream()
        .filter((id, person) -> person != null)
        .map((id, person) -> KeyValue.pair(null, Rows.q3(person, id)));
  }

  /**
   * New users: persons by id and auctions by seller, cogrouped per tumbling 10 s window into
   * "has an auction" (first character, 0 or 1) and the person's row members (the rest); a
   * closed window with both gives the person's row.
   */
  private static KStream<String, String> q8(KStream<String, String> lines, Duration grace) {
    KGroupedStream<Long, String> persons = lines
        .filter((k, v) -> v.startsWith("{\"person\""))
        .map((k, v) -> {
          Person p = Event.parse(v).person;
          return KeyValue.pair(p.id, Rows.q8Person(p));
        })
        // Both sides repartition: named, or their default names (after the shared store) collide.
        .groupByKey(Grouped.with("q8-persons", Serdes.Long(), Serdes.String()));
    KGroupedStream<Long, Long> sellers = lines
        .filter((k, v) -> v.startsWith("{\"auction\""))
        .map((k, v) -> {
          Auction a = Event.parse(v).auction;
          return KeyValue.pair(a.seller, a.id);
        })
        .groupByKey(Grouped.with("q8-sellers", Serdes.Long(), Serdes.Long()));
    return persons
        .cogroup((Long id, String person, String acc) -> acc.charAt(0) + person)
        .cogroup(sellers, (Long id, Long auction, String acc) -> "1" + acc.substring(1))
        .windowedBy(TimeWindows.ofSizeAndGrace(TEN_S, grace))
        .aggregate(() -> "0", Materialized.with(Serdes.Long(), Serdes.String()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .filter((w, acc) -> acc.charAt(0) == '1' && acc.length() > 1)
        .map((w, acc) -> KeyValue.pair(null, Rows.q8(acc.substring(1), w.window().start())));
  }

  /** Hot items: final bid counts per auction in hopping windows, then the largest per window (WindowMaxima). */
  private static KStream<String, String> q5(StreamsBuilder builder, KStream<String, Bid> bids, Duration grace) {
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(WindowMaxima.STORE), Serdes.Long(), Serdes.String()));
    return bids
        .map((k, b) -> KeyValue.pair(b.auction, b.dateTime))
        .groupByKey(Grouped.with(Serdes.Long(), Serdes.Long()))
        .windowedBy(TimeWindows.ofSizeAndGrace(TEN_S, grace).advanceBy(TWO_S))
        .count(Materialized.with(Serdes.Long(), Serdes.Long()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .map((w, n) -> KeyValue.pair(w.window().start(), n + "," + Rows.q5(w.window().start(), w.window().end(), w.key(), n)))
        .process(WindowMaxima::new, WindowMaxima.STORE);
  }

  /** Highest bid: per tumbling window the bids with the largest price (all bids under one key). */
  private static KStream<String, String> q7(KStream<String, Bid> bids, Duration grace) {
    return bids
        .groupBy((k, b) -> 0L, Grouped.with(Serdes.Long(), BIDS))
        .windowedBy(TimeWindows.ofSizeAndGrace(TEN_S, grace))
        .aggregate(() -> "", (k, b, acc) -> Maxima.offer(acc, b.price, b.toJson()), Materialized.with(Serdes.Long(), Serdes.String()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .flatMap((w, acc) -> {
          List<KeyValue<String, String>> out = new ArrayList<>();
          for (String bid : Maxima.items(acc)) {
            out.add(KeyValue.pair(null, Rows.q7(w.window().start(), w.window().end(), Event.parse("{\"bid\":" + bid + "}").bid)));
          }
          return out;
        });
  }

  /**
   * User sessions. Kafka Streams' session window ends at its last record (not last + gap) and
   * merges records at most the gap apart (Flink: less than the gap); the row's windowEnd is
   * its end + 10 s.
   */
  private static KStream<String, String> q11(KStream<String, Bid> bids, Duration grace) {
    return bids
        .map((k, b) -> KeyValue.pair(b.bidder, b.dateTime))
        .groupByKey(Grouped.with(Serdes.Long(), Serdes.Long()))
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(TEN_S, grace))
        .count(Materialized.with(Serdes.Long(), Serdes.Long()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .filter((w, n) -> n != null)
        .map((w, n) -> KeyValue.pair(null, Rows.bidderWindow(w.key(), w.window().start(), w.window().end() + TEN_S.toMillis(), n)));
  }

  /** Bids per bidder in tumbling 10 s windows. */
  private static KStream<String, String> q12(KStream<String, Bid> bids, Duration grace) {
    return bids
        .map((k, b) -> KeyValue.pair(b.bidder, b.dateTime))
        .groupByKey(Grouped.with(Serdes.Long(), Serdes.Long()))
        .windowedBy(TimeWindows.ofSizeAndGrace(TEN_S, grace))
        .count(Materialized.with(Serdes.Long(), Serdes.Long()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .map((w, n) -> KeyValue.pair(null, Rows.bidderWindow(w.key(), w.window().start(), w.window().end(), n)));
  }
}
