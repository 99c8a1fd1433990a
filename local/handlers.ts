import { parseConfig } from '../functions/lib/config.js';
import { declareFunctions, STATE_MACHINE_NAME } from '../functions/lib/stack.js';
import example from './example.config.js';
import type { Handler } from './lambda.js';

/** `functions/preflight.handler` -> the module file and the export Lambda calls. */
export const splitHandler = (handler: string) => {
  const at = handler.lastIndexOf('.');
  return { file: handler.slice(0, at), name: handler.slice(at + 1) };
};

/** Every declared function's handler, from the TypeScript sources (what the zips are built from). */
export const SOURCE_HANDLERS: Record<string, Handler> = Object.fromEntries(
  await Promise.all(
    Object.entries(declareFunctions(parseConfig(example), STATE_MACHINE_NAME)).map(async ([fn, { handler }]) => {
      const { file, name } = splitHandler(handler);
      const module = (await import(new URL(`../${file}.ts`, import.meta.url).href)) as Record<string, Handler>;
      if (typeof module[name] !== 'function') throw new Error(`${file} does not export ${name}`);
      return [fn, module[name]] as const;
    }),
  ),
);
