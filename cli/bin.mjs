#!/usr/bin/env node
// `npx ecs-dns-canary`: the operator's CLI (cli/main.ts), run from its TypeScript source by tsx.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2));
