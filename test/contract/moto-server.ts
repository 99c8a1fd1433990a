/**
 * vitest globalSetup for `npm run test:moto`: starts moto server on 127.0.0.1 on a free port,
 * points the AWS SDK at it (AWS_ENDPOINT_URL, dummy credentials) and stops it at the end.
 * moto comes from .venv (bash .ci/python-tools.sh) or $MOTO_SERVER; without it this fails,
 * it never skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto server exited with ${child.exitCode}:\n${log()}`);
    try {
      if ((await fetch(`${url}/moto-api/`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`moto server did not answer on ${url} within 60 s:\n${log()}`);
}

export default async function setup(): Promise<() => Promise<void>> {
  const binary = process.env.MOTO_SERVER ?? join(root, '.venv/bin/moto_server');
  if (!existsSync(binary)) throw new Error(`moto server not found at ${binary}: run \`bash .ci/python-tools.sh\` (installs moto[server] into .venv) or set MOTO_SERVER`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await waitUntilUp(url, child, () => output.slice(-2000));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    MOTO_ENDPOINT: url,
  });
  console.log(`moto server ${url} (pid ${child.pid})`);
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  };
}
