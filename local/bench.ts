// `npm run bench`: the figures behind the speed and size targets, printed, not asserted in tests.
//  - `sls package`: wall time, and each function's zip (target: at most 250 KB each)
//  - a 4-step canary on the simulated account: wall time, virtual time, Route53 calls, state transitions
//  - `npm run demo`-sized canary with 60 s TTL and 2-minute bakes (target: under 30 s of wall time)
// Exits 1 when a target is missed.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ZIP_TARGET_KB = 250;
const DEMO_TARGET_S = 30;
const root = new URL('..', import.meta.url).pathname;
let missed = 0;

const out = mkdtempSync(join(tmpdir(), 'canary-bench-'));
const t0 = performance.now();
execFileSync(process.execPath, [join(root, 'node_modules/osls/bin/serverless.js'), 'package', '--package', out], { cwd: root, env: { ...process.env, CI: 'true' }, stdio: 'ignore' });
const packageSeconds = (performance.now() - t0) / 1000;
console.log(`sls package: ${packageSeconds.toFixed(1)} s`);
for (const zip of readdirSync(out).filter((f) => f.endsWith('.zip')).sort()) {
  const kb = statSync(join(out, zip)).size / 1024;
  if (kb > ZIP_TARGET_KB) missed++;
  console.log(`  ${zip.padEnd(20)} ${kb.toFixed(1).padStart(7)} KB${kb > ZIP_TARGET_KB ? `  OVER the ${ZIP_TARGET_KB} KB target` : ''}`);
}
rmSync(out, { recursive: true, force: true });

const { createWorld } = await import('./world.js');
const w = createWorld();
const wall = performance.now();
const [result] = await w.runCanary();
const wallSeconds = (performance.now() - wall) / 1000;
const byCommand: Record<string, number> = {};
for (const c of w.sim.calls.filter((x) => x.service === 'route53')) byCommand[c.command] = (byCommand[c.command] ?? 0) + 1;
const route53Calls = Object.values(byCommand).reduce((a, b) => a + b, 0);
console.log(
  `4-step canary (steps 10/25/50/100, alias records, 60 s DNS wait, 120 s bakes, 30 s polls): ${result!.status} in ${wallSeconds.toFixed(2)} s wall, ` +
    `${Math.round(w.clock.elapsedMs() / 1000)} s virtual; ${result!.transitions} state transitions; ${route53Calls} Route53 calls ${JSON.stringify(byCommand)}`,
);
if (wallSeconds > DEMO_TARGET_S) missed++;
w.dispose();
console.log(missed ? `${missed} target(s) missed` : 'all targets met');
process.exitCode = missed ? 1 : 0;
