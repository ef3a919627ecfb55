import { tracingChannel } from 'node:diagnostics_channel';
import { Consumer, type ExtendedGroupProtocolSubscription, type GroupAssignment, type GroupPartitionsAssignments } from '@platformatic/kafka';
import type { RunPlan } from '../../runtime/run-plan.ts';
import { assignTasks, type TaskAssignment, type TaskGroup } from '../../runtime/task-group.ts';
import { isRetriableKafkaError, kafkaErrorText, retryWhile } from './kafka-errors.ts';
import { bootstrapBrokers, bootstrapText } from './kafka-client.ts';
import { connectionSecurity, securityFailure, type KafkaSecurityOptions } from './kafka-security.ts';

/** How a {@link KafkaTaskGroup} connects and how fast it notices members come and go. */
export interface KafkaTaskGroupOptions extends KafkaSecurityOptions {
  /** `host:port` of a broker, or several, comma-separated or as a list (as `KafkaLogOptions.bootstrap`). */
  readonly bootstrap: string | readonly string[];
  /** The group member's client id is `<clientId>-group` (default `tidemark-group`). */
  readonly clientId?: string;
  /** How long the group waits for a member that stopped heartbeating (killed) before moving its tasks (default 10 s; the broker's floor is 6 s). */
  readonly sessionTimeoutMs?: number;
  /** How often a member heartbeats, and so how soon it hears of a rebalance (default 500 ms). */
  readonly heartbeatIntervalMs?: number;
}

/** The group protocol's name: every member must speak it, so it names what the assignment means. */
const PROTOCOL = { name: 'tidemark-tasks', version: 1 };
/** How long a member whose rejoin failed tries again before its run stops. */
const REJOIN_TIMEOUT_MS = 30_000;
/** How long the group waits for every member to rejoin in a rebalance. */
const REBALANCE_TIMEOUT_MS = 30_000;
/** The default session timeout: how long the group waits for a silent member. */
const SESSION_TIMEOUT_MS = 10_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A task of the plan and the input partitions it reads: what a member is
 * given in the group's assignment, so that Kafka's own tools show which
 * member reads what.
 */
interface PlannedTask {
  readonly taskId: string;
  readonly partitions: readonly { readonly topic: string; readonly partition: number }[];
}

/** Every task of the application with its input partitions (co-partitioned inputs stay together: one task reads partition p of each). */
function plannedTasks(plan: RunPlan): PlannedTask[] {
  return plan.tasks.map((t) => ({ taskId: t.taskId, partitions: t.sources.map((topic) => ({ topic, partition: t.partition })) }));
}

/** The tasks whose input partitions a member was given. */
function tasksOfAssignment(tasks: readonly PlannedTask[], assignment: readonly GroupAssignment[]): Set<string> {
  const given = new Set(assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}/${p}`)));
  return new Set(tasks.filter((t) => t.partitions.length > 0 && t.partitions.every((p) => given.has(`${p.topic}/${p.partition}`))).map((t) => t.taskId));
}

/**
 * The instances of an application as a Kafka consumer group (group id: the
 * application id), sharing its tasks like Kafka Streams' instances do. The
 * group's leader assigns whole tasks — a task's co-partitioned input
 * partitions go to one member together — by {@link assignTasks}, keeping
 * tasks where they were as far as balance allows (each member tells the
 * tasks it holds in its subscription). When a member joins, leaves or is
 * killed, the group rebalances and each member reads its new assignment
 * with {@link assignment}.
 *
 * Positions are not committed to the group: each task's checkpoint, in the
 * task's own transaction, holds them (docs/kafka.md).
 *
 * @example
 * const log = await KafkaLog.open({ bootstrap: '127.0.0.1:9092' });
 * const group = new KafkaTaskGroup({ bootstrap: '127.0.0.1:9092' });
 * await new Application(topology, { applicationId: 'counts', log }).run({ mode: 'real-time', group, signal });
 */
export class KafkaTaskGroup implements TaskGroup {
  readonly #options: KafkaTaskGroupOptions;
  #consumer: Consumer | undefined;
  #tasks: PlannedTask[] = [];
  #current: TaskAssignment = { generation: -1, tasks: new Set() };
  #leaving = false;
  /** tidemark's own rejoin after the client's failed, while it runs. */
  #rejoin: Promise<void> | undefined;
  /** The joins of the consumer in flight, the client's own rejoins included: leaving waits for them (see {@link leaveCleanly}). */
  #joins: JoinWatch | undefined;
  /** Why the membership ended against this member's will (a rejoin that failed), for the run to stop on. */
  #failure: Error | undefined;

  /** @param options the broker, and the group's timings; the group id is the application id, given by the run's plan. */
  constructor(options: KafkaTaskGroupOptions) {
    bootstrapBrokers(options.bootstrap); // a bad entry fails here, not at the join
    this.#options = options;
  }

  async join(plan: RunPlan): Promise<void> {
    if (this.#consumer !== undefined) throw new Error('this KafkaTaskGroup has joined already: use one per run');
    this.#tasks = plannedTasks(plan);
    const consumer = new Consumer({
      clientId: `${this.#options.clientId ?? 'tidemark'}-group`,
      bootstrapBrokers: bootstrapBrokers(this.#options.bootstrap),
      groupId: plan.applicationId,
      autocommit: false,
      sessionTimeout: this.#options.sessionTimeoutMs ?? SESSION_TIMEOUT_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      heartbeatInterval: this.#options.heartbeatIntervalMs ?? 500,
      retries: 120,
      retryDelay: 250,
      // TLS and SASL as the log's clients have them.
      ...connectionSecurity(this.#options),
    });
    this.#consumer = consumer;
    this.#joins = watchJoins(consumer);
    // The subscription: every input partition of every task, internal streams included.
    consumer.topics.trackAll(...new Set(this.#tasks.flatMap((t) => t.partitions.map((p) => p.topic))));
    const joining = {
      protocols: [PROTOCOL],
      protocolsMetadata: () => Buffer.from(encoder.encode(JSON.stringify([...this.#current.tasks]))),
      partitionAssigner: (_leader: string, members: Map<string, ExtendedGroupProtocolSubscription>) => this.#assign(members),
    };
    // The client rejoins by itself when a heartbeat hears of a rebalance, and reports a rejoin that failed (a
    // connection dropped meanwhile) as an 'error' event, which would be thrown at the process without a listener.
    // A member leaving may see its own rejoin cut off by the close: that is no failure. Otherwise join again while
    // the error is retriable; a member that cannot get back in stops its run (its tasks are someone else's now).
    // Once leaving, no attempt starts any more: a join would turn the membership the leave ended on again.
    consumer.on('error', (e: unknown) => {
      if (this.#leaving || this.#rejoin !== undefined) return;
      this.#rejoin = retryWhile((err) => !this.#leaving && isRetriableKafkaError(err), REJOIN_TIMEOUT_MS, async () => {
        if (!this.#leaving) await consumer.joinGroup(joining);
      })
        .catch((err: unknown) => {
          if (!this.#leaving) this.#failure ??= new Error(`rejoining the consumer group ${plan.applicationId} at ${bootstrapText(this.#options.bootstrap)} (the client's own rejoin failed: ${kafkaErrorText(e)}): ${kafkaErrorText(err)}`, { cause: err });
        })
        .finally(() => (this.#rejoin = undefined));
    });
    consumer.on('consumer:group:join', (event: { generationId?: number; assignments?: GroupAssignment[] }) => {
      this.#current = { generation: event.generationId ?? this.#current.generation + 1, tasks: tasksOfAssignment(this.#tasks, event.assignments ?? []) };
    });
    await consumer
      .joinGroup(joining)
      .catch((e: unknown) => {
        this.#joins?.stop();
        throw securityFailure(e, bootstrapText(this.#options.bootstrap), this.#options) ?? new Error(`joining the consumer group ${plan.applicationId} at ${bootstrapText(this.#options.bootstrap)}: ${kafkaErrorText(e)}`, { cause: e });
      });
  }

  /** The leader's side: whole tasks to members, as input partitions. */
  #assign(members: Map<string, ExtendedGroupProtocolSubscription>): GroupPartitionsAssignments[] {
    const owned = [...members].map(([id, m]) => ({ id, owned: ownedTasks(m.metadata) }));
    const byTask = new Map(this.#tasks.map((t) => [t.taskId, t]));
    return [...assignTasks([...byTask.keys()], owned)].map(([memberId, taskIds]) => {
      const assignments = new Map<string, GroupAssignment>();
      for (const id of taskIds) {
        for (const p of byTask.get(id)!.partitions) {
          const a = assignments.get(p.topic) ?? { topic: p.topic, partitions: [] };
          a.partitions.push(p.partition);
          assignments.set(p.topic, a);
        }
      }
      return { memberId, assignments };
    });
  }

  /** The latest assignment; throws once this member could not rejoin the group (its tasks are someone else's now). */
  assignment(): TaskAssignment {
    if (this.#failure !== undefined) throw this.#failure;
    return this.#current;
  }

  async leave(): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    this.#leaving = true;
    // Leaving the group, the others rebalance at once instead of after the session timeout.
    await leaveCleanly(consumer, this.#joins!, () => this.#rejoin, this.#options.sessionTimeoutMs ?? SESSION_TIMEOUT_MS);
  }
}

/** The joins of a consumer in flight, and a way to wait until there are none. */
interface JoinWatch {
  /** Resolves once no join of the consumer is in flight. */
  settled(): Promise<void>;
  /** Stops watching. */
  stop(): void;
}

/**
 * Watches every join of `consumer` — its `joinGroup` calls and the
 * client's own rejoins after a rebalance, which the client runs inside
 * and reports only as events — through the client's diagnostics channel
 * of group operations, where each one starts and ends.
 */
function watchJoins(consumer: Consumer): JoinWatch {
  type Context = { client?: unknown; operation?: string };
  const channel = tracingChannel<unknown, Context>('plt:kafka:consumer:group');
  const inFlight = new Set<Context>();
  let idle: (() => void)[] = [];
  const ended = (c: Context): void => {
    if (!inFlight.delete(c) || inFlight.size > 0) return;
    for (const resolve of idle.splice(0)) resolve();
  };
  const handlers = {
    start: (c: Context) => void (c.client === consumer && c.operation === 'joinGroup' && inFlight.add(c)),
    asyncStart: ended,
    // A join that threw at once never calls back.
    end: (c: Context & { error?: unknown }) => void (c.error !== undefined && ended(c)),
    asyncEnd: () => {},
    error: () => {},
  };
  channel.subscribe(handlers);
  return {
    settled: () => (inFlight.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
    stop: () => {
      channel.unsubscribe(handlers);
      for (const resolve of idle.splice(0)) resolve();
      idle = [];
    },
  };
}

/**
 * Leaves the group and closes `consumer` so that nothing of it outlives
 * the close: a workaround of a bug of @platformatic/kafka 2.12.1
 * (docs/kafka-clients.md, "Known client bugs and tidemark's workarounds").
 * Its `close()` leaves the membership on: a join in flight meanwhile (the
 * client's own rejoin after a rebalance, or tidemark's) that completes
 * during or after the close schedules a heartbeat, which the closed client
 * re-schedules on every failure, forever — the process never exits.
 *
 * So first `leaveGroup()`, which turns the membership off: a join in
 * flight ends without scheduling a heartbeat, and none starts any more
 * (tidemark's own rejoin stops at its next attempt). Then the joins in
 * flight and tidemark's rejoin settle — a rejoin waiting to retry would
 * otherwise fail at the close and arm a stall timer of the rebalance
 * timeout. Only then the close, which finds no join to race with. The
 * waits are bounded by the session timeout — after it, the broker has
 * dropped the member anyway — and a join that completes after the close
 * all the same is reported as a warning: nothing public stops it then.
 */
async function leaveCleanly(consumer: Consumer, joins: JoinWatch, rejoin: () => Promise<void> | undefined, sessionTimeoutMs: number): Promise<void> {
  const deadline = Date.now() + sessionTimeoutMs;
  const bounded = async (p: Promise<unknown>): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    // A leave that fails (the broker unreachable) is left to the close, which leaves the group too, or tolerates that it cannot.
    await Promise.race([p.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
  };
  try {
    // (The callback form: the typings resolve `leaveGroup(true)` to the overload returning nothing.)
    await bounded(new Promise<void>((resolve, reject) => consumer.leaveGroup(true, (e) => (e ? reject(e) : resolve()))));
    await bounded(Promise.all([rejoin(), joins.settled()]));
  } finally {
    joins.stop();
  }
  await consumer.close(true);
  // Only a join still in flight at a bounded wait's end can get here; a closed client has no call that stops the
  // heartbeat then (leaveGroup and joinGroup refuse a closed client): at least say why the process may not exit.
  consumer.once('consumer:group:join', () => {
    process.emitWarning(`the Kafka consumer ${consumer.clientId} of group ${consumer.groupId} rejoined after it was closed and heartbeats on: the process may not exit (a @platformatic/kafka bug, see docs/kafka-clients.md)`);
  });
}

/** The tasks a member says it holds, from its subscription's user data; none when unreadable. */
function ownedTasks(userData: Buffer | string | undefined): string[] {
  if (userData === undefined || userData.length === 0) return [];
  try {
    const parsed: unknown = JSON.parse(typeof userData === 'string' ? userData : decoder.decode(userData));
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
