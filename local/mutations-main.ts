// `npm run mutations`: every env var and IAM action of every function, removed one at a time;
// prints which scenario caught each removal. The last line is {"tried":N,"caught":N}; exit
// code 1 when a removal went unnoticed.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { mutations, runMutation } = await import('./mutations.js');
let caught = 0;
const all = [...mutations(), ...mutations({ full: true }), ...mutations({ crossAccount: true })];
for (const m of all) {
  const r = await runMutation(m);
  if (r.caughtBy) caught++;
  console.log(`${r.caughtBy ? 'caught ' : 'MISSED '} ${r.fn.padEnd(14)} without ${r.removed.padEnd(34)} ${r.caughtBy ? `${r.caughtBy.scenario}: ${r.caughtBy.why.slice(0, 110)}` : ''}`);
}
console.log(JSON.stringify({ tried: all.length, caught }));
process.exitCode = caught === all.length ? 0 : 1;
