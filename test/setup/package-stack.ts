import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
export const ROOT = new URL('../..', import.meta.url).pathname;
const SLS = join(ROOT, 'node_modules/osls/bin/serverless.js');

/** The files `sls package` and the demo read: the project without canary.config.ts (each copy brings its own). */
const PROJECT = ['serverless.yml', 'serverless.vars.cjs', 'package.json', 'tsconfig.json', 'functions', 'statemachine', 'events', 'local', 'cli'];

/**
 * A copy of the project whose canary.config.ts is `config` (TypeScript source), ready for
 * `sls package` / `sls invoke local`. The fixtures (local/example.config.ts,
 * test/fixtures/*.config.ts) import their types from ../functions or ../../functions: that path
 * is rewritten for the project root.
 */
export function projectWith(config: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'canary-project-'));
  for (const f of PROJECT) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'canary.config.ts'), config.replace(/'(\.\.\/)+functions\//g, "'./functions/"));
  return dir;
}

export const exampleConfigSource = () => readFileSync(join(ROOT, 'local/example.config.ts'), 'utf8');

/** `sls package` in `cwd` into `out`: what `sls deploy` would upload. */
export function slsPackage(cwd: string, out: string) {
  return run(process.execPath, [SLS, 'package', '--package', out], { cwd, env: { ...process.env, CI: 'true', SLS_TELEMETRY_DISABLED: '1' }, timeout: 240_000 });
}

export function sls(cwd: string, args: string[], env: NodeJS.ProcessEnv, timeout = 90_000) {
  return run(process.execPath, [SLS, ...args], { cwd, env, timeout });
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** A project copy with the example fixture config, packaged into its `out/`. */
    packagedProject: string;
  }
}

/** Packages the stack once for the whole run, with the suite's own fixture configuration. */
export default async function setup(project: TestProject) {
  const dir = projectWith(exampleConfigSource());
  await slsPackage(dir, join(dir, 'out'));
  project.provide('packagedProject', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
