import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Outcome {
  readonly late: string[];
  readonly counted: string[];
}
interface Report {
  readonly streamTime: { C0: Outcome; C1: Outcome; results: string[] };
  readonly watermark: { C0: Outcome; C1: Outcome; results: string[] };
  readonly watermarksSeen: Record<string, { received: number[]; watermark: number[] }>;
}

test('three tiers in separate processes: (Z,2) from B0 is late at C1 on stream time, on time on watermarks; the timeline is drawn', () => {
  const out = mkdtempSync(join(tmpdir(), 'tidemark-three-tier-test-'));
  try {
    const stdout = execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'examples', 'three-tier.ts'), '--json', '--out', out], { encoding: 'utf8' });
    const r = JSON.parse(stdout) as Report;
    // Stream time: C1 saw (B,22) from B1 first, so window [0,10) had closed when (Z,2) came.
    assert.deepEqual(r.streamTime.C1, { late: ['(Z, 2)'], counted: ['(B, 22)'] });
    assert.ok(!r.streamTime.results.some((s) => s.includes('Z [0,10)')), 'on stream time no result counts (Z,2)');
    // Watermarks: C1 waited for B0, whose watermark was 2, so (Z,2) was on time and its window fired at W(40).
    assert.deepEqual(r.watermark.C1.late, []);
    assert.ok(r.watermark.C1.counted.includes('(Z, 2)'));
    assert.deepEqual(r.watermark.results, ['C0: X [0,10) = 1', 'C0: Y [10,20) = 1', 'C1: B [20,30) = 1', 'C1: Z [0,10) = 1']);
    // What each node saw: B0 and B1 pass on their producers' watermarks; C1's is the least of B0's and B1's.
    assert.deepEqual(r.watermarksSeen.B0!.watermark, [2, 40]);
    assert.deepEqual(r.watermarksSeen.B1!.watermark, [22, 40]);
    assert.deepEqual(r.watermarksSeen['C1 (watermark)']!.received, [22, 2, 40, 40]);
    assert.deepEqual(r.watermarksSeen['C1 (watermark)']!.watermark, [2, 40]);
    const svg = readFileSync(join(out, 'three-tier-timeline.svg'), 'utf8');
    for (const node of ['A0', 'A1', 'B0', 'B1', 'C0 (watermark)', 'C1 (stream-time)']) assert.ok(svg.includes(node), `the timeline has a lane for ${node}`);
    assert.match(readFileSync(join(out, 'three-tier-timeline.html'), 'utf8'), /late/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
