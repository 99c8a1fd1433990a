import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Handler } from './lambda.js';
import { splitHandler } from './handlers.js';
import type { LocalStack } from './stack.js';

/**
 * The handlers as Lambda loads them: each function's zip from `sls package` unpacked into a
 * task root of its own, beside a node_modules that holds only the AWS SDK (what the Node.js
 * runtime provides), and its handler file required by the template's Handler.
 */
export function handlersFromZips(packageDir: string, stack: LocalStack, into: string): Record<string, Handler> {
  const root = join(into, 'lambda');
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  const sdk = dirname(createRequire(import.meta.url).resolve('@aws-sdk/client-route-53/package.json'));
  symlinkSync(dirname(sdk), join(root, 'node_modules', '@aws-sdk'));
  const handlers: Record<string, Handler> = {};
  for (const [name, fn] of Object.entries(stack)) {
    const taskRoot = join(root, name);
    for (const [file, bytes] of Object.entries(unzipSync(readFileSync(join(packageDir, `${name}.zip`))))) {
      mkdirSync(dirname(join(taskRoot, file)), { recursive: true });
      writeFileSync(join(taskRoot, file), bytes);
    }
    const { file, name: exported } = splitHandler(fn.handler);
    // Lambda's Node.js runtime tries the handler's module as .js, .mjs, then .cjs.
    const module = createRequire(join(taskRoot, 'index.js'))(join(taskRoot, `${file}.cjs`)) as Record<string, Handler>;
    if (typeof module[exported] !== 'function') throw new Error(`${name}: ${file}.cjs does not export ${exported}`);
    handlers[name] = module[exported];
  }
  return handlers;
}
