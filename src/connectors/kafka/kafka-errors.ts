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
  readonly errors?: readonly unknown[];
}

function asClientError(e: unknown): ClientError {
  return typeof e === 'object' && e !== null ? (e as ClientError) : { message: String(e) };
}

/** The error's message and, for the client's aggregate errors, each inner error's id and message. */
export function kafkaErrorText(e: unknown): string {
  const err = asClientError(e);
  const inner = (err.errors ?? []).map((x) => {
    const i = asClientError(x);
    return `${i.apiId ?? i.id ?? i.code ?? 'error'}: ${i.message ?? ''}`.trim();
  });
  const head = err.message ?? String(e);
  return inner.length === 0 ? head : `${head} (${[...new Set(inner)].join('; ')})`;
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
