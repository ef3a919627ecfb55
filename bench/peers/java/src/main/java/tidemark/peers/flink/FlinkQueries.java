package tidemark.peers.flink;

import java.time.Duration;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.windowing.AllWindowFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import tidemark.peers.flink.Aggregates.AuctionCount;
import tidemark.peers.model.Auction;
import tidemark.peers.model.Bid;
import tidemark.peers.model.Event;
import tidemark.peers.model.Person;
import tidemark.peers.model.Rows;

/** The Nexmark queries as Flink DataStream pipelines from timestamped events to result rows. */
final class FlinkQueries {
  static final Duration TEN_S = Duration.ofSeconds(10);
  static final Duration TWO_S = Duration.ofSeconds(2);

  private FlinkQueries() {}

  /** The pipeline of `query` (q0 ... q12), or an error naming the queries there are. */
  static DataStream<String> build(String query, DataStream<Event> events) {
    return switch (query) {
      case "q0" -> bids(events).map(Bid::toJson);
      case "q1" -> bids(events).map(b -> b.withPrice(Rows.dollarsToEuros(b.price)).toJson());
      case "q2" -> bids(events).filter(b -> b.auction % 123 == 0).map(Rows::q2);
      case "q3" -> FlinkJoins.q3(persons(events), auctions(events));
      case "q4" -> FlinkJoins.q4(FlinkJoins.winners(auctions(events), bids(events)));
      case "q5" -> q5(bids(events));
      case "q6" -> FlinkJoins.q6(FlinkJoins.winners(auctions(events), bids(events)));
      case "q7" -> q7(bids(events));
      case "q8" -> FlinkJoins.q8(persons(events), auctions(events));
      case "q11" -> q11(bids(events));
      case "q12" -> q12(bids(events));
      default -> throw new IllegalArgumentException("--query: no Flink pipeline for '" + query + "' (q0 q1 q2 q3 q4 q5 q6 q7 q8 q11 q12)");
    };
  }

  static DataStream<Bid> bids(DataStream<Event> events) {
    return events.filter(e -> e.bid != null).map(e -> e.bid).name("bids");
  }

  static DataStream<Auction> auctions(DataStream<Event> events) {
    return events.filter(e -> e.auction != null).map(e -> e.auction).name("auctions");
  }

  static DataStream<Person> persons(DataStream<Event> events) {
    return events.filter(e -> e.person != null).map(e -> e.person).name("persons");
  }

  /** Hot items: bid counts per auction in hopping windows, then per window the auctions with the largest count. */
  private static DataStream<String> q5(DataStream<Bid> bids) {
    DataStream<AuctionCount> counts = bids
        .keyBy(b -> b.auction)
        .window(SlidingEventTimeWindows.of(TEN_S, TWO_S))
        .aggregate(new Aggregates.Count<Bid>(), new ProcessWindowFunction<Long, AuctionCount, Long, TimeWindow>() {
          @Override
          public void process(Long auction, Context ctx, Iterable<Long> count, Collector<AuctionCount> out) {
            out.collect(new AuctionCount(ctx.window().getStart(), ctx.window().getEnd(), auction, count.iterator().next()));
          }
        });
    // A window's counts carry the timestamp windowEnd - 1, which falls in exactly one tumbling
    // window of the advance's size: that window gathers the counts of that hopping window alone.
    return counts
        .windowAll(TumblingEventTimeWindows.of(TWO_S))
        .aggregate(new Aggregates.MaxCount(), new AllWindowFunction<Aggregates.MaxCounts, String, TimeWindow>() {
          @Override
          public void apply(TimeWindow w, Iterable<Aggregates.MaxCounts> maxima, Collector<String> out) {
            for (AuctionCount c : maxima.iterator().next().items) out.collect(Rows.q5(c.windowStart, c.windowEnd, c.auction, c.count));
          }
        });
  }

  /** Highest bid: per tumbling window every bid with the window's largest price. */
  private static DataStream<String> q7(DataStream<Bid> bids) {
    return bids
        .windowAll(TumblingEventTimeWindows.of(TEN_S))
        .aggregate(new Aggregates.MaxPrice(), new AllWindowFunction<Aggregates.MaxBids, String, TimeWindow>() {
          @Override
          public void apply(TimeWindow w, Iterable<Aggregates.MaxBids> maxima, Collector<String> out) {
            for (Bid b : maxima.iterator().next().items) out.collect(Rows.q7(w.getStart(), w.getEnd(), b));
          }
        });
  }

  /**
   * User sessions: bids per bidder in session windows with a 10 s gap. Flink's window of a bid
   * is [t, t + gap) and windows merge when they intersect, ends included (TimeWindow.intersects),
   * so a bid at most the gap after the previous one joins its session, as the contract says;
   * the merged window is [first, last + gap).
   */
  private static DataStream<String> q11(DataStream<Bid> bids) {
    return bids
        .keyBy(b -> b.bidder)
        .window(EventTimeSessionWindows.withGap(TEN_S))
        .aggregate(new Aggregates.Count<Bid>(), new BidderWindowRow());
  }

  /** Bids per bidder in tumbling 10 s windows (the event-time variant of q12). */
  private static DataStream<String> q12(DataStream<Bid> bids) {
    return bids
        .keyBy(b -> b.bidder)
        .window(TumblingEventTimeWindows.of(TEN_S))
        .aggregate(new Aggregates.Count<Bid>(), new BidderWindowRow());
  }

  /** {"bidder","windowStart","windowEnd","count"} from a window's count. */
  private static final class BidderWindowRow extends ProcessWindowFunction<Long, String, Long, TimeWindow> {
    @Override
    public void process(Long bidder, Context ctx, Iterable<Long> count, Collector<String> out) {
      out.collect(Rows.bidderWindow(bidder, ctx.window().getStart(), ctx.window().getEnd(), count.iterator().next()));
    }
  }
}
