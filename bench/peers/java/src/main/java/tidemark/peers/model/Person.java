package tidemark.peers.model;

/** A Nexmark person (a new user), as in the events file. A Flink POJO. */
public class Person {
  public long id;
  public String name;
  public String emailAddress;
  public String creditCard;
  public String city;
  public String state;
  public long dateTime;
  public String extra;

  public Person() {}
}
