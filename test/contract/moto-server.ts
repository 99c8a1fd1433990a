/**
 * vitest globalSetup for `npm run test:moto`: starts moto server on 127.0.0.1 on a free port,
 * points the AWS SDK at it (AWS_ENDPOINT_URL, dummy credentials) and stops it at the end.
 * moto (>= 5.2.5) comes from $MOTO_SERVER, else the Python in .venv (bash .ci/python-tools.sh),
 * else python3 on the PATH; without it this fails, it never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const MIN_MOTO = [5, 2, 5];

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

const motoVersion = (python: string): string | undefined => {
  const out = spawnSync(python, ['-c', 'import moto, flask; print(moto.__version__)'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : undefined;
};

const recentEnough = (version: string): boolean => {
  const parts = version.split('.').map((p) => parseInt(p, 10));
  for (let i = 0; i < MIN_MOTO.length; i++) if ((parts[i] ?? 0) !== MIN_MOTO[i]) return (parts[i] ?? 0) > MIN_MOTO[i]!;
  return true;
};

/** How to start moto server: $MOTO_SERVER (a moto_server executable), or `python -m moto.server` with a recent enough moto. */
function motoServer(): { command: string; args: string[]; what: string } {
  const explicit = process.env.MOTO_SERVER;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`MOTO_SERVER=${explicit} does not exist`);
    return { command: explicit, args: [], what: explicit };
  }
  const tried: string[] = [];
  for (const python of [join(root, '.venv/bin/python'), 'python3']) {
    const version = motoVersion(python);
    if (version && recentEnough(version)) return { command: python, args: ['-m', 'moto.server'], what: `moto ${version} (${python} -m moto.server)` };
    tried.push(version ? `${python} has moto ${version}, older than ${MIN_MOTO.join('.')}` : `${python}: no moto[server]`);
  }
  throw new Error(
    `moto server is not installed (${tried.join('; ')}), so the adapter contract cannot run against it; this fails on purpose, it never skips. ` +
      "Run `bash .ci/python-tools.sh` (creates .venv with 'moto[server]>=5.2.5'), or set MOTO_SERVER to a moto_server executable.",
  );
}

export default async function setup(): Promise<() => Promise<void>> {
  const moto = motoServer();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(moto.command, [...moto.args, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // If vitest goes away without its teardown (an uncaught error, Ctrl-C), take the server with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilUp(url, child, () => output.slice(-2000));
  } catch (e) {
    await stop();
    throw e;
  }
  // Test files run in worker processes started after this, with this environment: the
  // adapters' clients read the endpoint and the credentials from it on their first request.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    MOTO_ENDPOINT: url,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  console.log(`moto server ${url}: ${moto.what}, pid ${child.pid}`);
  return async () => {
    await stop();
    console.log(`moto server ${url} stopped`);
  };
}
