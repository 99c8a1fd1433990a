import { afterEach } from 'vitest';
import { createWorld, type World, type WorldOptions } from '../local/world.js';

export { examplePair, greenSequence, weightsOf, type World } from '../local/world.js';

const worlds: World[] = [];
afterEach(() => {
  for (const w of worlds.splice(0).reverse()) w.dispose();
});

/** A fresh world for one test, disposed after it. */
export function world(options: WorldOptions = {}): World {
  const w = createWorld(options);
  worlds.push(w);
  return w;
}
