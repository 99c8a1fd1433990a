// `npm run faults`: the fault matrix on the simulated account. The last line is
// {"cases":N,"passed":N,"leftSplit":0}; the exit code is 1 when any case failed.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { runMatrix } = await import('./fault-matrix.js');
const summary = await runMatrix((r) =>
  console.log(
    `${r.passed ? 'ok  ' : 'FAIL'} ${r.state.padEnd(24)} ${r.fault.padEnd(9)} -> ${r.status.padEnd(9)} ${(r.error ?? '').padEnd(18)} ${r.ending.padEnd(8)} blue ${r.weights.blue} / green ${r.weights.green}  safety net: ${r.safetyNet}`,
  ),
);
console.log(JSON.stringify({ cases: summary.cases, passed: summary.passed, leftSplit: summary.leftSplit }));
process.exitCode = summary.passed === summary.cases ? 0 : 1;
