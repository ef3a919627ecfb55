package tidemark.peers.flink;

import java.util.ArrayList;
import org.apache.flink.api.common.functions.AggregateFunction;
import tidemark.peers.model.Bid;

/** The incremental aggregates of the Flink queries (counts, and "every row with the maximum"). */
final class Aggregates {
  private Aggregates() {}

  /** Counts elements; mergeable, for session windows. */
  static final class Count<T> implements AggregateFunction<T, Long, Long> {
    @Override public Long createAccumulator() { return 0L; }
    @Override public Long add(T value, Long acc) { return acc + 1; }
    @Override public Long getResult(Long acc) { return acc; }
    @Override public Long merge(Long a, Long b) { return a + b; }
  }

  /** One auction's bid count in one window (q5's first stage). A Flink POJO. */
  public static class AuctionCount {
    public long windowStart;
    public long windowEnd;
    public long auction;
    public long count;

    public AuctionCount() {}

    AuctionCount(long windowStart, long windowEnd, long auction, long count) {
      this.windowStart = windowStart;
      this.windowEnd = windowEnd;
      this.auction = auction;
      this.count = count;
    }
  }

  /** The elements that share the largest value seen so far. */
  public static class Maxima<T> {
    public long max = Long.MIN_VALUE;
    public ArrayList<T> items = new ArrayList<>();

    public Maxima() {}

    void offer(long value, T item) {
      if (value > max) {
        max = value;
        items.clear();
      }
      if (value == max) items.add(item);
    }

    void absorb(Maxima<T> other) {
      for (T t : other.items) offer(other.max, t);
    }
  }

  /** Maxima of auction counts (q5), a concrete class for Flink's type extraction. */
  public static class MaxCounts extends Maxima<AuctionCount> {
    public MaxCounts() {}
  }

  /** Maxima of bids by price (q7). */
  public static class MaxBids extends Maxima<Bid> {
    public MaxBids() {}
  }

  /** q5's second stage: the auctions whose count is the window's maximum. */
  static final class MaxCount implements AggregateFunction<AuctionCount, MaxCounts, MaxCounts> {
    @Override public MaxCounts createAccumulator() { return new MaxCounts(); }
    @Override public MaxCounts add(AuctionCount v, MaxCounts acc) { acc.offer(v.count, v); return acc; }
    @Override public MaxCounts getResult(MaxCounts acc) { return acc; }
    @Override public MaxCounts merge(MaxCounts a, MaxCounts b) { a.absorb(b); return a; }
  }

  /** q7: the bids whose price is the window's maximum. */
  static final class MaxPrice implements AggregateFunction<Bid, MaxBids, MaxBids> {
    @Override public MaxBids createAccumulator() { return new MaxBids(); }
    @Override public MaxBids add(Bid v, MaxBids acc) { acc.offer(v.price, v); return acc; }
    @Override public MaxBids getResult(MaxBids acc) { return acc; }
    @Override public MaxBids merge(MaxBids a, MaxBids b) { a.absorb(b); return a; }
  }
}
