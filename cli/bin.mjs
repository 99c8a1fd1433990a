#!/usr/bin/env node
// `npx ecs-dns-canary`: the operator's CLI (cli/main.ts), run from its TypeScript source by tsx.
import { register } from 'tsx/esm/api';

// Node 20 works (Lambda runs 22): no SDK notice about it on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
// CANARY_CONFIG names another configuration file (relative to the project), as for `sls package`
// (serverless.vars.cjs): CI writes the all-features fixture's forwarders this way.
if (process.env.CANARY_CONFIG) {
  const { useConfig } = await import('../functions/lib/pairs.ts');
  useConfig((await import(new URL(`../${process.env.CANARY_CONFIG}`, import.meta.url).href)).default);
}
const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2));
