/**
 * What the demo prints: the workload it generated, the summary of what the
 * application did — checked against what was planted in the workload — and
 * the verdict of the replay check.
 *
 * @module
 */
import type { EmbeddedLog } from '../connectors/embedded/embedded-log.ts';
import type { RunSummary } from '../runtime/application.ts';
import { fingerprintStream } from '../runtime/fingerprint.ts';
import { DEAD_LETTER_HEADERS } from '../runtime/headers.ts';
import type { AuditEntry, Log } from '../runtime/log.ts';
import type { LogRecord } from '../records/record.ts';
import type { Windowed } from '../windows/window.ts';
import { ALERTS, CALIBRATIONS, LATE_READINGS, READINGS, STATS, WINDOW_GRACE_MS, WINDOW_MS, WINDOWS, type Alert, type SensorStats, type WindowStats } from './demo-topology.ts';
import type { Outage, SensorWorkload } from './demo-workload.ts';
import { formatCount, formatTime } from './demo-format.ts';
import type { Ui } from './demo-ui.ts';

const decoder = new TextDecoder();

/** The backlog section: the gateways, the streams, how out of order the data is, what was planted. */
export function describeBacklog(ui: Ui, workload: SensorWorkload, partitions: number): void {
  const c = workload.counts;
  for (const g of workload.gateways) {
    const skew = `${g.skewMs >= 0 ? '+' : '−'}${(Math.abs(g.skewMs) / 1000).toFixed(2)} s`;
    ui.row(g.name, `clock ${skew} · sends every ${g.flushEveryMs / 1000} s · ${g.sensors.length} sensors (${g.sensors.slice(0, 2).join(', ')}, …)`);
  }
  ui.row(READINGS, `${formatCount(c.readings)} records in ${partitions} partitions, keyed by sensor`);
  ui.row(CALIBRATIONS, `${formatCount(c.calibrations)} records in ${partitions} partitions (co-partitioned with the readings)`);
  ui.row(
    'out of order',
    `${formatCount(c.outOfOrder)} readings (${percent(c.outOfOrder, c.readings)}) are older than a reading before them in their partition; ` +
      `${formatCount(c.lateBy5s)} by more than 5 s; ${c.outages === 0 ? 'no gateway lost its uplink' : `${plural(c.outages, 'gateway outage')} so far (a gateway's uplink down for 4–12 s)`}`,
  );
  ui.row('planted', `${plural(c.glitches, 'glitch', 'glitches')} (85 °C), ${plural(c.invalidTimestamps, 'invalid timestamp')} (missing, negative, fractional), ${plural(c.undecodable, 'undecodable value')}`);
}

/** What the demo's runs add up to. */
export interface Totals {
  processed: number;
  deadLettered: number;
  fallbacks: number;
  nondeterministic: number;
  lateRecords: number;
  outputs: Map<string, number>;
}

/** Adds up the summaries of the runs of one application. */
export function addUp(summaries: readonly RunSummary[]): Totals {
  const t: Totals = { processed: 0, deadLettered: 0, fallbacks: 0, nondeterministic: 0, lateRecords: 0, outputs: new Map() };
  for (const s of summaries) {
    t.processed += s.processed;
    t.deadLettered += s.deadLettered;
    t.fallbacks += s.fallbacks;
    t.nondeterministic += s.nondeterministicDecisions;
    t.lateRecords += s.lateRecords;
    for (const [stream, n] of s.outputs) t.outputs.set(stream, (t.outputs.get(stream) ?? 0) + n);
  }
  return t;
}

/**
 * The summary section: records in and out, dead letters, fallbacks and
 * nondeterministic decisions — each checked against what was planted, with
 * samples from the dead-letter stream and the audit — then what the
 * application computed: alerts, per-sensor statistics, closed windows and
 * the readings that came too late for theirs, and why.
 */
export function summarize(ui: Ui, log: EmbeddedLog, applicationId: string, t: Totals, workload: SensorWorkload, maxIdleMs: number): void {
  const planted = workload.counts;
  const calibrationsIn = endOf(log, CALIBRATIONS);
  const statsOut = t.outputs.get(STATS) ?? 0;
  // Each processed reading gives one statistics record, unless the filter dropped it.
  const filtered = t.processed - calibrationsIn - statsOut;
  ui.row('records in', `${READINGS} ${formatCount(endOf(log, READINGS))} · ${CALIBRATIONS} ${formatCount(calibrationsIn)}`);
  ui.row('processed', `${formatCount(t.processed)}, of which ${formatCount(filtered)} glitches dropped by the filter ${check(filtered, planted.glitches)}`);
  ui.row(
    'records out',
    `${STATS} ${formatCount(statsOut)} · ${ALERTS} ${formatCount(t.outputs.get(ALERTS) ?? 0)} · ${WINDOWS} ${formatCount(t.outputs.get(WINDOWS) ?? 0)} · ${LATE_READINGS} ${formatCount(t.outputs.get(LATE_READINGS) ?? 0)}`,
  );
  deadLetters(ui, log, `${applicationId}.dead-letter`, t.deadLettered, planted.undecodable);
  const audit = log.readAudit(applicationId);
  ui.row('timestamp fallbacks', `${formatCount(t.fallbacks)} invalid event times replaced by broker time ${check(t.fallbacks, planted.invalidTimestamps)}`);
  // One sample per kind of invalid timestamp: the details differ only in their numbers.
  for (const e of distinctBy(audit.filter((e) => e.kind.startsWith('fallback:')), (e) => e.detail.replace(/[\d.-]+/g, '')).slice(0, 3)) ui.sample(position(e), e.detail);
  if (t.nondeterministic === 0) {
    ui.row('nondeterministic', '0 decisions: this output is a function of the input alone');
  } else {
    ui.row('nondeterministic', `${plural(t.nondeterministic, 'decision')}, in real-time: a task waited ${maxIdleMs} ms for its empty ${CALIBRATIONS} partition, then went on without it`);
    for (const e of audit.filter((e) => e.kind.startsWith('nondeterministic:')).slice(0, 2)) ui.sample(position(e), e.detail);
  }
  alerts(ui, log);
  sensors(ui, log);
  windows(ui, log);
  lateReadings(ui, log, audit, t.lateRecords, workload);
}

function deadLetters(ui: Ui, log: EmbeddedLog, dlq: string, count: number, planted: number): void {
  ui.row('dead-lettered', `${formatCount(count)} → ${dlq} ${check(count, planted, 'undecodable values')}`);
  const samples = distinctBy(readAll(log, dlq), (r) => (r.headers[DEAD_LETTER_HEADERS.error] ?? '').slice(0, 18)).slice(0, 3);
  for (const r of samples) {
    const h = r.headers;
    // V8's JSON messages end with "(line 1 column 13)": noise for a one-line value.
    const error = (h[DEAD_LETTER_HEADERS.error] ?? '').replace(/\s*\(line \d+ column \d+\)/, '');
    const where = `${h[DEAD_LETTER_HEADERS.stream]}/${h[DEAD_LETTER_HEADERS.partition]}@${h[DEAD_LETTER_HEADERS.offset]}`;
    ui.sample(where, `${error} — raw: ${decoder.decode(r.value ?? new Uint8Array())}`);
  }
}

function alerts(ui: Ui, log: EmbeddedLog): void {
  const all = readAll(log, ALERTS).map((r) => JSON.parse(decoder.decode(r.value!)) as Alert);
  const raised = all.filter((a) => a.state === 'ALERT').sort((x, y) => x.at.localeCompare(y.at));
  ui.row('alerts', `${raised.length} raised, ${all.length - raised.length} cleared${raised.length > 0 ? ', e.g.' : ''}`);
  for (const a of raised.slice(0, 3)) ui.sample(formatTime(Date.parse(a.at)), `${a.sensor} at ${a.celsius} °C, above its ${a.limit} °C limit`);
}

/** The sensors' latest statistics (the last record per sensor), those with the biggest peaks first. */
function sensors(ui: Ui, log: EmbeddedLog): void {
  const latest = new Map<string, SensorStats>();
  for (const r of readAll(log, STATS)) {
    const s = JSON.parse(decoder.decode(r.value!)) as SensorStats;
    latest.set(s.sensor, s);
  }
  ui.row('sensors', `${latest.size} tracked in the state store${latest.size > 0 ? '; biggest peaks over their mean:' : ''}`);
  const peaks = [...latest.values()].sort((a, b) => b.max - b.mean - (a.max - a.mean)).slice(0, 3);
  for (const s of peaks) {
    const calibration = s.offset === 0 ? 'not calibrated' : `calibrated ${s.offset > 0 ? '+' : ''}${s.offset.toFixed(1)} °C`;
    ui.sample(s.sensor, `${formatCount(s.readings)} readings: mean ${s.mean.toFixed(1)} °C, max ${s.max.toFixed(1)} °C, now ${s.last.toFixed(1)} °C (${calibration})`);
  }
}

/** The closed windows: how many, and the three hottest. */
function windows(ui: Ui, log: EmbeddedLog): void {
  const all = readAll(log, WINDOWS).map((r) => ({ w: JSON.parse(decoder.decode(r.key!)) as Windowed<string>, s: JSON.parse(decoder.decode(r.value!)) as WindowStats }));
  const rule = `when the stream time passed its end + ${WINDOW_GRACE_MS / 1000} s of grace`;
  if (all.length === 0) return ui.row('windows', `none closed yet: a ${WINDOW_MS / 1000}-s window of a sensor is emitted ${rule}`);
  ui.row('windows', `${formatCount(all.length)} closed, of ${WINDOW_MS / 1000} s per sensor, each emitted once ${rule}; the hottest:`);
  const hottest = distinctBy(all.sort((a, b) => b.s.max - a.s.max || a.w.start - b.w.start), (x) => x.w.key).slice(0, 3);
  for (const { w, s } of hottest) {
    ui.sample(w.key, `${formatTime(w.start).slice(0, -1)}–${formatTime(w.end)}: ${s.readings} readings, min ${s.min.toFixed(1)} · mean ${s.mean.toFixed(1)} · max ${s.max.toFixed(1)} °C`);
  }
}

/**
 * The late readings: counted, on the side-output stream and in the audit —
 * all three must agree — and why they were late: the audit says which
 * window had closed at which stream time; the workload says whether the
 * reading's gateway was offline when it was measured.
 */
function lateReadings(ui: Ui, log: EmbeddedLog, audit: readonly AuditEntry[], count: number, workload: SensorWorkload): void {
  const late = audit.filter((e) => e.kind === 'late-record');
  const sideOutput = endOf(log, LATE_READINGS);
  const agree = late.length === count && sideOutput === count ? '✓ each on the side output and in the audit' : `(audit ${formatCount(late.length)}, side output ${formatCount(sideOutput)})`;
  ui.row('late readings', `${formatCount(count)} came after their window had closed → ${LATE_READINGS} ${agree}`);
  if (late.length === 0) return;
  const explained = late.map((e) => explainLate(log, e, workload));
  const byOutage = new Map<Outage, number>();
  for (const x of explained) if (x.outage !== undefined) byOutage.set(x.outage, (byOutage.get(x.outage) ?? 0) + 1);
  const held = [...byOutage.values()].reduce((a, b) => a + b, 0);
  const others = late.length - held;
  ui.row(
    'why late',
    `${formatCount(held)} measured while their gateway's uplink was down, sent when it came back (${whichOutages(byOutage.size, workload.outages.length)})` +
      (others > 0 ? `; ${formatCount(others)} delayed by clock skew and batching` : ''),
  );
  // One sample per outage (the first reading of each), then one of the others.
  const samples = [...distinctBy(explained.filter((x) => x.outage !== undefined), (x) => `${x.outage!.gateway}${x.outage!.from}`), ...explained.filter((x) => x.outage === undefined)].slice(0, 3);
  for (const x of samples) ui.sample(position(x.entry), x.text);
}

/** Which of the gateway outages (of the backlog and the live sending: those the backlog section counted, and later ones) made readings late. */
function whichOutages(withLate: number, all: number): string {
  if (withLate === all) return all === 1 ? 'the one gateway outage so far' : `all ${all} gateway outages so far`;
  return `${withLate} of the ${all} gateway outages so far; the others' readings came back within their window's grace`;
}

/** One late reading, in words: from the audit's position and detail, the record itself and the workload's outages. */
function explainLate(log: EmbeddedLog, entry: AuditEntry, workload: SensorWorkload): { entry: AuditEntry; outage: Outage | undefined; text: string } {
  const r = log.read(entry.stream, entry.partition, entry.offset, 1)[0]!;
  const sensor = decoder.decode(r.key ?? new Uint8Array());
  const gateway = workload.gateways.find((g) => g.name === r.headers.gateway);
  // The audit's detail names the reading's timestamp and the stream time at which it came: how far behind it was.
  const ts = Number(/timestamp (\d+)/.exec(entry.detail)?.[1] ?? r.eventTime ?? r.brokerTime);
  const streamTime = Number(/stream time (\d+)/.exec(entry.detail)?.[1] ?? Number.NaN);
  const windowStart = ts - (((ts % WINDOW_MS) + WINDOW_MS) % WINDOW_MS);
  const window = `${formatTime(windowStart).slice(0, -1)}–${formatTime(windowStart + WINDOW_MS)}`;
  const why = Number.isNaN(streamTime)
    ? entry.detail
    : `came ${((streamTime - ts) / 1000).toFixed(1)} s behind stream time, after its window ${window} closed (stream time ${formatTime(windowStart + WINDOW_MS + WINDOW_GRACE_MS)})`;
  let outage: Outage | undefined;
  if (gateway !== undefined) {
    // What the gateway measured at true time `measured` (its clock is skewed) waited in its queue through an outage.
    const measured = ts - gateway.skewMs;
    outage = workload.outages.find((o) => o.gateway === gateway.name && measured > o.from - gateway.flushEveryMs && measured < o.until);
  }
  const cause = outage === undefined ? '' : `, held back by ${outage.gateway}'s outage (${formatTime(outage.from).slice(0, -1)}–${formatTime(outage.until)})`;
  return { entry, outage, text: `${sensor} at ${formatTime(ts)}${cause}: ${why}` };
}

/**
 * One `fingerprint <stream> <sha256>` line per output stream (docs/semantics.md, "Fingerprints"),
 * in stream-name order: the lines `tidemark run` prints.
 */
export function fingerprintLines(log: Log, streams: readonly string[]): string[] {
  return [...streams].sort().map((s) => `fingerprint ${s} ${fingerprintStream(log, s)}`);
}

/** Compares the live fingerprint lines with the replay's and says what that means. */
export function verdict(ui: Ui, live: readonly string[], replay: readonly string[], nondeterministic: number): boolean {
  const hash = (line: string): string => line.slice(line.lastIndexOf(' ') + 1);
  const same = live.length === replay.length && live.every((l, i) => hash(l) === hash(replay[i]!));
  ui.blank();
  if (same) {
    ui.good('✓ identical: same input, same output, whether processed as it arrived or replayed later.');
    if (nondeterministic > 0) {
      ui.para(
        `The ${plural(nondeterministic, 'nondeterministic decision')} did not change the result: no calibration arrived after a task ` +
          'had gone on without one. Had one arrived, the fingerprints could differ, and the audit would say where.',
      );
    }
  } else {
    ui.bad('✗ different: the live output is not what a replay of the same input gives.');
    ui.para(`The audit lists the ${plural(nondeterministic, 'nondeterministic decision')} of the live run: the places where timing could change the result.`);
  }
  return same;
}

/** `✓ all 12 planted`, or what was expected when the count is off. */
function check(actual: number, planted: number, what = ''): string {
  const of = what === '' ? 'planted' : `planted ${what}`;
  if (actual === 0 && planted === 0) return '✓ none planted';
  return actual === planted ? `✓ all ${formatCount(planted)} ${of}` : `(${formatCount(planted)} ${of})`;
}

function endOf(log: EmbeddedLog, stream: string): number {
  let n = 0;
  for (let p = 0; p < (log.partitionCount(stream) ?? 0); p++) n += log.endOffset(stream, p);
  return n;
}

function readAll(log: EmbeddedLog, stream: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (let p = 0; p < (log.partitionCount(stream) ?? 0); p++) out.push(...log.read(stream, p, 0, log.endOffset(stream, p)));
  return out;
}

function distinctBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function position(e: AuditEntry): string {
  return `${e.stream}/${e.partition}@${e.offset}`;
}

function percent(n: number, of: number): string {
  return of === 0 ? '0%' : `${((100 * n) / of).toFixed(1)}%`;
}

function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : nouns}`;
}
