/**
 * A task's commit through a broker's failure: what is retried, and how.
 *
 * A commit is one Kafka transaction. While its records are being sent, a
 * failure leaves the transaction open with an unknown part of them written:
 * it is aborted (the producer bumps its own epoch, which aborts it for sure
 * and is refused if another instance took the task meanwhile) and the whole
 * unit sent again in a new one. Once EndTxn(commit) was
 * sent, the coordinator may have decided the commit already: aborting then
 * could be refused and the unit written twice, so only the commit is sent
 * again — Kafka answers a repeated commit of a committed transaction with
 * success. A fenced producer is never retried: the task moved.
 *
 * @module
 */
import { isFencedKafkaError, isFencingRaceKafkaError } from './kafka-errors.ts';
import { isTransientKafkaError } from './kafka-routing.ts';

/** How long a commit is retried through a failover before the run fails: an election (seconds) and a broker restart (5–10 s here) fit. */
export const COMMIT_RETRY_MS = 60_000;

/**
 * The task producers' own retries, about 2 s: a request to a broker that
 * died fails soon, and the commit is retried by tidemark on fresh metadata
 * and a fresh connection (the client's retries go to the same broker).
 */
export const TASK_PRODUCER_RETRIES = { retries: 8, retryDelay: 250 };

/**
 * The task producers' transaction timeout (the client's `timeout`, which
 * is also the produce request's): longer than {@link COMMIT_RETRY_MS}, so
 * that the coordinator does not abort a transaction whose commit is being
 * sent again.
 */
export const TRANSACTION_TIMEOUT_MS = 70_000;

/** Where in its transaction a commit failed: sending its records, or at EndTxn. */
export type CommitPhase = 'send' | 'end';

/** What to do after a failure: the task moved; abort and send the unit again; send only the commit again; give up. */
export type CommitRetry = 'migrated' | 'redo' | 'resend-commit' | 'fail';

/**
 * Rule (commit retry): fenced → `migrated`; a transient failure
 * ({@link isTransientKafkaError}) within `budgetMs` since the commit began
 * → `redo` while sending, `resend-commit` at EndTxn; anything else → `fail`.
 */
export function commitRetryAction(e: unknown, phase: CommitPhase, elapsedMs: number, budgetMs = COMMIT_RETRY_MS): CommitRetry {
  if (isFencedKafkaError(e) || isFencingRaceKafkaError(e)) return 'migrated';
  if (!isTransientKafkaError(e) || elapsedMs >= budgetMs) return 'fail';
  return phase === 'send' ? 'redo' : 'resend-commit';
}

/** The steps of one commit, for {@link commitWithRetries}. */
export interface CommitSteps {
  /** Begins a transaction and sends every record of the unit in it. */
  send(): Promise<void>;
  /** Commits the open transaction (EndTxn). */
  commit(): Promise<void>;
  /** Aborts whatever is open and makes the producer ready for a new transaction (a new epoch). */
  reset(): Promise<void>;
}

/**
 * Runs a commit's steps, retrying through transient failures as
 * {@link commitRetryAction} says, with a delay growing from 100 ms to 2 s;
 * throws the last error when it says `migrated` or `fail`. Resolves once
 * the transaction is committed.
 */
export async function commitWithRetries(steps: CommitSteps, budgetMs = COMMIT_RETRY_MS): Promise<void> {
  const started = Date.now();
  let phase: CommitPhase = 'send';
  let reset = false;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      if (reset) await steps.reset();
      reset = false;
      if (phase === 'send') await steps.send();
      phase = 'end';
      await steps.commit();
      return;
    } catch (e) {
      const action = commitRetryAction(e, phase, Date.now() - started + delay, budgetMs);
      if (action === 'migrated' || action === 'fail') throw e;
      if (action === 'redo') reset = true;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
