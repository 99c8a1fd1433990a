// `npm run bench [-- --json]`: the figures behind the speed, size and cost targets, printed,
// never asserted (the tests check only invariants: every canary promoted, none left split).
//  - `sls package`: wall time, and each function's zip (target: at most 250 KB each)
//  - one 4-step canary against its floor (per step: Route53 INSYNC + DNS wait + bake)
//  - 1, 10 and 50 canaries on 50 pairs of one simulated account, started within one minute,
//    under Route53's, ECS's and CloudWatch's documented throttling
//  - the cost of one canary at list prices
//  - from an alarm to the rollback's change batch, over 200 canaries with the alarm at a random
//    point of a random step (cold starts included)
// AWS's latencies are on (local/sim/latency.ts: Lambda cold and warm starts, state transitions,
// EventBridge delivery, Route53 INSYNC as a distribution).
// With --json the last line is one JSON object (see README).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const json = process.argv.includes('--json');
const ZIP_TARGET_KB = 250;
const root = new URL('..', import.meta.url).pathname;
const say = (line: string) => console.log(line);

const out = mkdtempSync(join(tmpdir(), 'canary-bench-'));
const t0 = performance.now();
execFileSync(process.execPath, [join(root, 'node_modules/osls/bin/serverless.js'), 'package', '--package', out], { cwd: root, env: { ...process.env, CI: 'true' }, stdio: 'ignore' });
say(`sls package: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
for (const zip of readdirSync(out).filter((f) => f.endsWith('.zip')).sort()) {
  const kb = statSync(join(out, zip)).size / 1024;
  say(`  ${zip.padEnd(20)} ${kb.toFixed(1).padStart(7)} KB${kb > ZIP_TARGET_KB ? `  OVER the ${ZIP_TARGET_KB} KB target` : ''}`);
}
rmSync(out, { recursive: true, force: true });

const { runConcurrent } = await import('./concurrency.js');
const { runAlarmToRollback } = await import('./alarm-to-rollback.js');
const { costOf, PRICES } = await import('./cost.js');

const levels = [];
for (const n of [1, 10, 50]) {
  const wall = performance.now();
  const run = await runConcurrent(n);
  levels.push(run);
  say(
    `${String(n).padStart(2)} canaries: ${run.promoted}/${n} promoted, ${run.throttledRollbacks} throttling rollbacks, ${run.leftSplit} left split; ` +
      `over the ${run.floorSeconds} s floor: median ${(run.medianOverheadRatio * 100).toFixed(2)} %, worst ${(run.worstOverheadRatio * 100).toFixed(2)} %; ` +
      `Route53 ${run.route53PeakRps} req/s peak, ${run.route53MeanRps} mean, ${run.route53Throttled} throttled (retried); ` +
      `GetMetricData ${run.getMetricDataPeakRps} calls/s peak (quota about 50/s), ${run.metricsRequested} metrics requested; ${((performance.now() - wall) / 1000).toFixed(1)} s wall`,
  );
}

const one = levels[0]!;
const cost = costOf(one);
say(`one 4-step canary: ${one.canarySeconds[0]} s (floor ${one.floorSeconds} s, +${((one.canarySeconds[0]! / one.floorSeconds - 1) * 100).toFixed(2)} %)`);
say(`cost of one canary at list prices (${PRICES.source}):`);
for (const item of cost.items) say(`  ${item.what.padEnd(58)} ${(Number.isInteger(item.quantity) ? String(item.quantity) : item.quantity.toFixed(2)).padStart(7)}  $${item.usd.toFixed(6)}`);
say(`  total $${cost.totalUsd.toFixed(6)}; biggest item: ${cost.biggest}`);
say(`  INSYNC by a service integration (aws-sdk:route53:getChange, a Wait and a Choice per poll, no Lambda): ${cost.integration.transitions} more transitions = $${cost.integration.usd.toFixed(6)}, against $${cost.integration.lambdaUsd.toFixed(6)} for the waitForChange Lambda it replaces`);
say(`  the sweep, every ${cost.sweep.everyMinutes} minutes whether or not a canary runs: about $${cost.sweep.usdPerMonth.toFixed(4)} a month`);

const alarmWall = performance.now();
const alarm = await runAlarmToRollback({ runs: 200 });
const coldBoth = alarm.results.filter((r) => r.cold.signal && r.cold.rollBack).length;
say(
  `alarm to the rollback's change batch, ${alarm.runs} canaries (alarm at a random point of a random step; signal and rollBack cold in ${coldBoth}): ` +
    `p50 ${alarm.p50} s, p99 ${alarm.p99} s, max ${alarm.max} s${alarm.missed ? `; ${alarm.missed} NOT rolled back` : ''} (goal: p99 <= 5 s); ${((performance.now() - alarmWall) / 1000).toFixed(1)} s wall`,
);

if (json)
  console.log(
    JSON.stringify({
      floorSeconds: one.floorSeconds,
      canarySeconds: one.canarySeconds[0],
      overheadRatio: one.medianOverheadRatio,
      concurrent: levels.map((r) => ({
        n: r.n,
        promoted: r.promoted,
        throttledRollbacks: r.throttledRollbacks,
        medianOverheadRatio: r.medianOverheadRatio,
        worstOverheadRatio: r.worstOverheadRatio,
        route53PeakRps: r.route53PeakRps,
        route53MeanRps: r.route53MeanRps,
        getMetricDataPeakRps: r.getMetricDataPeakRps,
      })),
      transitions: cost.transitions,
      lambdaGbSeconds: cost.lambdaGbSeconds,
      costUsd: cost.totalUsd,
      alarmToRollback: { runs: alarm.runs, p50: alarm.p50, p99: alarm.p99, max: alarm.max, missed: alarm.missed },
    }),
  );
