#!/usr/bin/env node
// `npx ecs-dns-canary`: the operator's CLI (cli/main.ts), run from its TypeScript source by tsx.
import { register } from 'tsx/esm/api';

// Node 20 works (Lambda runs 22): no SDK notice about it on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2));
