/**
 * What tidemark makes of the Kafka client's errors: a readable text naming
 * every protocol error inside, and which of them are worth waiting out.
 */

interface ClientError {
  readonly message?: string;
  readonly code?: string;
  readonly id?: string;
  /** A protocol error's name, e.g. `PRODUCER_FENCED`. */
  readonly apiId?: string;
  readonly canRetry?: boolean;
  /** The broker's own message for a protocol error, e.g. `Topic name is invalid: …`. */
  readonly serverErrorMessage?: string | null;
  /** Which item of the request a protocol error is about, e.g. `/topics/1`. */
  readonly path?: string;
  readonly errors?: readonly unknown[];
}

function asClientError(e: unknown): ClientError {
  return typeof e === 'object' && e !== null ? (e as ClientError) : { message: String(e) };
}

/**
 * The error's message and, for the client's aggregate errors, the broker's
 * errors inside (code and the broker's own message), else each inner
 * error's id and message.
 */
export function kafkaErrorText(e: unknown): string {
  const err = asClientError(e);
  const broker = brokerErrors(e).map((b) => `${b.code}: ${b.message}`);
  const inner =
    broker.length > 0
      ? broker
      : (err.errors ?? []).map((x) => {
          const i = asClientError(x);
          return `${i.apiId ?? i.id ?? i.code ?? 'error'}: ${i.message ?? ''}`.trim();
        });
  const head = err.message ?? String(e);
  return inner.length === 0 ? head : `${head} (${[...new Set(inner)].join('; ')})`;
}

/** A protocol error the broker answered with: its code, its message, and the request item it is about. */
export interface BrokerError {
  /** The error's name, e.g. `INVALID_TOPIC_EXCEPTION`. */
  readonly code: string;
  /** The broker's message, else the client's text for the code. */
  readonly message: string;
  /** The index of the request item (the `n` of the client's path `/topics/n`), when given. */
  readonly item: number | undefined;
}

/** Every protocol error inside `e`, however deep the client nested it (retries wrap each attempt's), each once. */
export function brokerErrors(e: unknown): BrokerError[] {
  const found = new Map<string, BrokerError>();
  const walk = (x: unknown): void => {
    const err = asClientError(x);
    if (err.apiId !== undefined) {
      const item = /\/(\d+)$/.exec(err.path ?? '')?.[1];
      const error = { code: err.apiId, message: err.serverErrorMessage ?? err.message ?? '', item: item === undefined ? undefined : Number(item) };
      found.set(`${error.code} ${error.item} ${error.message}`, error);
    }
    for (const inner of err.errors ?? []) walk(inner);
  };
  walk(e);
  return [...found.values()];
}

/**
 * The error of a CreateTopics request for `topics` (in request order),
 * naming each topic the broker refused and the broker's reason, and the
 * topics refused (Kafka creates the others of the request all the same);
 * undefined when the only refusals are topics that already exist (another
 * instance created them meanwhile).
 */
export function topicCreationError(e: unknown, topics: readonly string[]): { error: Error; refused: ReadonlySet<string> } | undefined {
  const all = brokerErrors(e);
  const refused = all.filter((b) => b.code !== 'TOPIC_ALREADY_EXISTS');
  if (refused.length === 0 && all.length > 0) return undefined;
  if (refused.length === 0) return { error: new Error(`creating Kafka topics ${topics.join(', ')}: ${kafkaErrorText(e)}`, { cause: e }), refused: new Set(topics) };
  const named = refused.map((b) => ({ ...b, topics: b.item === undefined || topics[b.item] === undefined ? topics : [topics[b.item]!] }));
  const error = new Error(named.map((b) => `creating Kafka topic ${b.topics.join(', ')}: ${b.code}: ${b.message}`).join('; '), { cause: e });
  return { error, refused: new Set(named.flatMap((b) => b.topics)) };
}

/**
 * True when every error inside `e` is one Kafka marks retriable (a
 * coordinator loading or moving, concurrent transactions, a leader
 * election, a dropped connection): waiting and trying again can succeed.
 */
export function isRetriableKafkaError(e: unknown): boolean {
  const err = asClientError(e);
  if (err.errors !== undefined && err.errors.length > 0) return err.errors.every(isRetriableKafkaError);
  return err.canRetry === true;
}

/**
 * True when `e` says a newer producer holds the transactional id: another
 * process took the task over, and this one's transaction is void.
 */
export function isFencedKafkaError(e: unknown): boolean {
  const err = asClientError(e);
  if (err.apiId === 'PRODUCER_FENCED' || err.apiId === 'INVALID_PRODUCER_EPOCH') return true;
  return (err.errors ?? []).some(isFencedKafkaError);
}

/**
 * True for a transaction whose end is unknown because a new owner was
 * fencing it at that moment: Kafka 4.4's coordinator, given EndTxn while
 * its InitProducerId is half done, fails with an IllegalStateException
 * ("… while it already a pending state PREPARE_EPOCH_FENCE") that reaches
 * the client as UNKNOWN_SERVER_ERROR.
 */
export function isFencingRaceKafkaError(e: unknown): boolean {
  const err = asClientError(e);
  if (err.apiId === 'UNKNOWN_SERVER_ERROR') return true;
  return (err.errors ?? []).some(isFencingRaceKafkaError);
}

/**
 * Runs `operation` until it succeeds, retrying while `retriable(error)` holds
 * and `timeoutMs` has not passed, with a delay growing from 100 ms to 2 s.
 */
export async function retryWhile<T>(retriable: (e: unknown) => boolean, timeoutMs: number, operation: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await operation();
    } catch (e) {
      if (!retriable(e) || Date.now() + delay > deadline) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
