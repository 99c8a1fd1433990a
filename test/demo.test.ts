import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { visibleLength } from '../cli/render.js';
import { main, timeline, type DemoSummary } from '../local/demo-main.js';
import { exampleConfigSource, projectWith } from './setup/package-stack.js';

const run = promisify(execFile);

async function demo(...args: string[]): Promise<{ code: number; text: string; summary?: DemoSummary }> {
  return demoAt(undefined, ...args);
}

/** The demo writing to a stream `columns` wide (undefined: not a terminal). */
async function demoAt(columns: number | undefined, ...args: string[]): Promise<{ code: number; text: string; summary?: DemoSummary }> {
  let text = '';
  const out = { write: (s: string) => ((text += s), true), isTTY: false, ...(columns ? { columns } : {}) };
  const code = await main(args, out);
  const last = text.trimEnd().split('\n').at(-1) ?? '';
  return { code, text, summary: last.startsWith('{') ? (JSON.parse(last) as DemoSummary) : undefined };
}

describe('npm run demo', () => {
  it.each<[string[], Partial<DemoSummary>]>([
    [['--smoke-fail'], { outcome: 'REFUSED', route53Changes: 0, weights: { blue: 100, green: 0 }, idleDesiredCount: 3 }],
    [['--hook-fail', 'pre'], { outcome: 'REFUSED', route53Changes: 0, weights: { blue: 100, green: 0 } }],
    [['--hook-fail', 'post'], { outcome: 'ROLLED_BACK', weights: { blue: 100, green: 0 }, idleDesiredCount: 3 }],
    [['--targets-unhealthy-at', '25'], { outcome: 'ROLLED_BACK', steps: [10, 25], weights: { blue: 100, green: 0 } }],
    [['--idle-after-promotion'], { outcome: 'PROMOTED', weights: { blue: 0, green: 100 }, idleDesiredCount: 0 }],
  ])('%j --json', async (flags, expected) => {
    const { code, summary } = await demo(...flags, '--json');
    expect(code).toBe(0);
    expect(summary).toMatchObject(expected);
  });

  it('--hook-fail takes pre or post', async () => {
    expect((await demo('--hook-fail', 'during')).code).toBe(2);
  });

  it('--json: the last line says PROMOTED with the schedule, weights and figures', async () => {
    const { code, text, summary } = await demo('--json');
    expect(code).toBe(0);
    expect(summary).toMatchObject({ outcome: 'PROMOTED', reason: null, weights: { blue: 0, green: 100 }, steps: [10, 25, 50, 100], route53Changes: 4 });
    expect(Object.keys(summary!)).toEqual(['outcome', 'reason', 'weights', 'steps', 'virtualSeconds', 'wallSeconds', 'route53Changes', 'transitions', 'idleDesiredCount', 'alarmToRollbackSeconds', 'greenRequests', 'greenFailedRequests', 'detectionSeconds', 'accounts', 'regions']);
    expect(summary!.accounts).toEqual({ stack: '123456789012', zone: '123456789012', blue: '123456789012', green: '123456789012' });
    expect(summary!.regions).toEqual({ stack: 'eu-west-1', blue: 'eu-west-1', green: 'eu-west-1' });
    expect(summary!.alarmToRollbackSeconds).toBeNull();
    expect(summary!.greenRequests).toBeGreaterThan(1000);
    expect(summary!.detectionSeconds).toBeNull();
    expect(summary!.virtualSeconds).toBeGreaterThan(4 * (60 + 120));
    expect(summary!.transitions).toBeGreaterThan(0);
    expect(text).toContain('Step 3/4: shift traffic → blue 50 / green 50');
    expect(text).toContain("green's weight over virtual time");
  });

  it('--fail-at 50: the alarm fires during the 50 % step and the canary rolls back (exit 0)', async () => {
    const { code, summary } = await demo('--fail-at', '50', '--json');
    expect(code).toBe(0);
    expect(summary).toMatchObject({ outcome: 'ROLLED_BACK', weights: { blue: 100, green: 0 }, steps: [10, 25, 50] });
    expect(summary!.reason).toContain('step 3 of 4 (green 50 %): AlarmFired: alarm shop-web-5xx-rate went to ALARM');
    expect(summary!.alarmToRollbackSeconds).toBeLessThanOrEqual(5);
    // AWS's latencies are on in the demo: EventBridge, two cold starts (signal, Roll back), a transition
    expect(summary!.alarmToRollbackSeconds).toBeGreaterThan(1);
  });

  it('--cross-account: the zone in a second account, green in eu-central-1 of a third, and the canary promotes', async () => {
    const { code, text, summary } = await demo('--cross-account', '--json');
    expect(code).toBe(0);
    expect(summary).toMatchObject({ outcome: 'PROMOTED', weights: { blue: 0, green: 100 }, steps: [10, 25, 50, 100], route53Changes: 4 });
    expect(summary!.accounts).toEqual({ stack: '123456789012', zone: '222222222222', blue: '123456789012', green: '444455556666' });
    expect(summary!.regions).toEqual({ stack: 'eu-west-1', blue: 'eu-west-1', green: 'eu-central-1' });
    expect(summary!.greenRequests).toBeGreaterThan(1000);
    expect(text).toContain('Step 3/4: shift traffic → blue 50 / green 50');
  });

  it("--cross-account --fail-at 50: green's own alarm fires in its account and region, its event crosses through the forwarder, and the canary rolls back", async () => {
    const { summary, text } = await demo('--cross-account', '--fail-at', '50', '--json');
    expect(summary).toMatchObject({ outcome: 'ROLLED_BACK', weights: { blue: 100, green: 0 }, steps: [10, 25, 50] });
    expect(summary!.reason).toContain('step 3 of 4 (green 50 %): AlarmFired: alarm shop-web-b-5xx went to ALARM');
    expect(text).toMatch(/alarm shop-web-b-5xx → ALARM in eu-central-1 of account\s+444455556666/);
    // The event's path (forwarder, then the stack's rule), not the judge's next poll 30 s later.
    expect(summary!.alarmToRollbackSeconds).toBeLessThanOrEqual(6);
  });

  it('--fail-at 50 --no-latency: without AWS\'s latencies, the rollback follows the alarm by EventBridge\'s fixed 0.5 s', async () => {
    const { summary } = await demo('--fail-at', '50', '--no-latency', '--json');
    expect(summary).toMatchObject({ outcome: 'ROLLED_BACK', alarmToRollbackSeconds: 0.5 });
  });

  it.each([80, 60])('the log and the summary wrap on word boundaries at %i columns', async (columns) => {
    const { text } = await demoAt(columns, '--fail-at', '50');
    const graph = text.indexOf("green's weight over virtual time");
    const lines = text.slice(0, graph).split('\n');
    for (const line of lines) expect(visibleLength(line)).toBeLessThanOrEqual(columns);
    // no word is cut: the alarm's name and the words of the summary are whole on a line
    expect(lines.some((l) => l.includes('shop-web-5xx-rate'))).toBe(true);
    expect(lines.some((l) => /\bcanary ran\b/.test(l))).toBe(true);
    expect(lines.filter((l) => /(^| )-web-5xx-rate/.test(l) || /\bcana$/.test(l))).toEqual([]);
  });

  it('--fail-at 50 --polling-only: the alarm event is lost, the next poll rolls back', async () => {
    // exact times (--no-latency): with AWS's latencies the next poll may come sooner than 5 s after the alarm
    const { summary } = await demo('--fail-at', '50', '--polling-only', '--no-latency', '--json');
    expect(summary!.reason).toContain('step 3 of 4 (green 50 %): metric alarm shop-web-5xx-rate is in ALARM');
    expect(summary!.alarmToRollbackSeconds).toBeGreaterThan(5);
    expect(summary!.alarmToRollbackSeconds).toBeLessThanOrEqual(30 + 5);
  });

  it('--approve-at 50: the gate holds green at 50 %, the scripted operator approves with the CLI, green is promoted', async () => {
    const { summary, text } = await demo('--approve-at', '50', '--json');
    expect(summary).toMatchObject({ outcome: 'PROMOTED', steps: [10, 25, 50, 100], alarmToRollbackSeconds: null });
    expect(text).toContain('(scripted operator) npx ecs-dns-canary approve shop-web');
    expect(text).toContain('shop-web: approved by demo-operator at green 50 %');
  });

  it('--reject-at 25: the scripted operator rejects at the gate, the canary rolls back', async () => {
    const { summary } = await demo('--reject-at', '25', '--json');
    expect(summary).toMatchObject({ outcome: 'ROLLED_BACK', steps: [10, 25], weights: { blue: 100, green: 0 } });
    expect(summary!.reason).toContain('RejectedByOperator: rejected by demo-operator at green 25 %');
  });

  it('the chart marks where the rollback happened', async () => {
    const { text } = await demo('--fail-at', '25');
    expect(text).toContain('▲ rollback');
    const chart = text.slice(text.indexOf("green's weight over virtual time")).split('\n');
    for (const line of chart) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('--green-errors 10: green against blue rolls back at step 1 with both sides\' numbers; the alarms alone let it through step 1', async () => {
    const { summary } = await demo('--green-errors', '10', '--json');
    expect(summary).toMatchObject({ outcome: 'ROLLED_BACK', steps: [10], weights: { blue: 100, green: 0 } });
    expect(summary!.reason).toMatch(/^step 1 of 4 \(green 10 %\): green's 5xx \d+ of [\d,]+ \(\d+\.\d+ %\) vs blue's \d+ of [\d,]+ \(0\.\d+ %\)/);
    expect(summary!.greenFailedRequests).toBeGreaterThan(0);
    expect(summary!.detectionSeconds).toBeGreaterThan(0);
    const alarmsOnly = (await demo('--green-errors', '10', '--alarms-only', '--json')).summary!;
    expect(alarmsOnly).toMatchObject({ outcome: 'ROLLED_BACK', steps: [10, 25] });
    expect(alarmsOnly.reason).toContain('AlarmFired: alarm shop-web-5xx-rate went to ALARM');
  });

  it('--traffic 0.2: too little traffic to judge green is never a silent promotion', async () => {
    const { summary } = await demo('--traffic', '0.2', '--json');
    expect(summary).toMatchObject({ outcome: 'ROLLED_BACK', steps: [10], weights: { blue: 100, green: 0 } });
    expect(summary!.reason).toMatch(/GreenInconclusive: .*green served \d+ requests in \d+ s \(needs 300\)/);
  });

  it('--observe --green-errors 1.5: nothing is acted on, WouldRollBack says what would have been', async () => {
    // 1.5 % stays under the pair-wide 2 % alarm even at 100 %: only the comparison sees it
    const { summary, text } = await demo('--observe', '--green-errors', '1.5', '--json');
    expect(summary).toMatchObject({ outcome: 'PROMOTED', steps: [10, 25, 50, 100] });
    expect(text).toMatch(/observe mode: would have rolled back at step \d: green's 5xx/);
    expect(text).toContain('WouldRollBack');
  });

  it('--green-latency 600: green\'s p99 against blue\'s rolls back', async () => {
    const { summary } = await demo('--green-latency', '600', '--json');
    expect(summary).toMatchObject({ outcome: 'ROLLED_BACK', weights: { blue: 100, green: 0 } });
    expect(summary!.reason).toMatch(/green's p99 \d+, \d+, \d+ ms vs blue's/);
  });

  it('--unhealthy-at 25: green loses tasks and the canary rolls back', async () => {
    const { summary } = await demo('--unhealthy-at', '25', '--json');
    expect(summary).toMatchObject({ outcome: 'ROLLED_BACK', steps: [10, 25] });
    expect(summary!.reason).toContain('runs 1 of 3 desired tasks');
  });

  it.each([['--fail-at', '33'], ['--bogus'], ['--speed', 'fast'], ['--fail-at'], ['extra'], ['--approve-at', '100'], ['--approve-at', '25', '--reject-at', '50'], ['--green-errors', 'lots'], ['--traffic', '0'], ['--observe', '--alarms-only']])('bad flags %j: usage and exit code 2', async (...args) => {
    const { code, summary } = await demo(...args);
    expect(code).toBe(2);
    expect(summary).toBeUndefined();
  });

  it('--help prints the usage and exits 0', async () => {
    const { code, text } = await demo('--help');
    expect(code).toBe(0);
    expect(text).toContain('usage: npm run demo');
  });
});

describe('timeline', () => {
  it('draws one row per level reached, filled while green is at or above it', () => {
    const rows = timeline([{ atMs: 0, green: 10 }, { atMs: 500, green: 100 }], 1000, { width: 18 });
    expect(rows[0]).toBe(' 100 % |     █████');
    expect(rows[1]).toBe('  10 % |██████████');
  });
});

describe('the demo with an invalid canary.config.ts', () => {
  it('exits 2 with one line per bad field, no stack trace, before running anything', async () => {
    const bad = exampleConfigSource().replace('steps: [10, 25, 50, 100]', 'steps: [10, 25, 50]').replace("hostedZoneId: 'Z0EXAMPLE12345'", "hostedZoneId: 'nope'");
    const dir = projectWith(bad);
    try {
      const result = await run(process.execPath, [join(dir, 'node_modules/tsx/dist/cli.mjs'), 'local/demo.ts', '--json'], { cwd: dir }).then(
        () => ({ code: 0, stderr: '', stdout: '' }),
        (e: { code: number; stderr: string; stdout: string }) => e,
      );
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([
        'demo: canary.config.ts: invalid canary configuration:',
        '  pairs[0].hostedZoneId: hostedZoneId must look like Z0123456789ABCDEFGHIJ',
        '  pairs[0].steps: the last step must be 100',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
