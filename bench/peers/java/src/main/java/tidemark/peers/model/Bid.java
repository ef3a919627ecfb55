package tidemark.peers.model;

/** A Nexmark bid, as in the events file. A Flink POJO: public fields, no-argument constructor. */
public class Bid {
  public long auction;
  public long bidder;
  public long price;
  public String channel;
  public String url;
  public long dateTime;
  public String extra;

  public Bid() {}

  /** The bid object exactly as the events file writes it (q0's row). */
  public String toJson() {
    StringBuilder sb = new StringBuilder(128 + extra.length());
    sb.append("{\"auction\":").append(auction).append(",\"bidder\":").append(bidder).append(",\"price\":").append(price);
    sb.append(",\"channel\":");
    Json.string(sb, channel);
    sb.append(",\"url\":");
    Json.string(sb, url);
    sb.append(",\"dateTime\":").append(dateTime).append(",\"extra\":");
    Json.string(sb, extra);
    return sb.append('}').toString();
  }

  /** A copy with another price (q1). */
  public Bid withPrice(long newPrice) {
    Bid b = new Bid();
    b.auction = auction;
    b.bidder = bidder;
    b.price = newPrice;
    b.channel = channel;
    b.url = url;
    b.dateTime = dateTime;
    b.extra = extra;
    return b;
  }
}
