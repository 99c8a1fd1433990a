import { describe, expect, it } from 'vitest';
import { mutations, runMutation, SCENARIOS } from '../local/mutations.js';

// Proof that the simulated account enforces each function's packaged environment and role:
// every variable and every IAM action a function is given is removed in turn, and a named
// scenario must fail. (`npm run mutations` prints the same as a table.)

describe('the mutation scenarios', () => {
  it.each(Object.keys(SCENARIOS))('%s, on the stack as packaged', async (name) => {
    await SCENARIOS[name]!({});
  });
});

describe('every environment variable and IAM action a function is given is needed', () => {
  it.each([...mutations(), ...mutations({ full: true })].map((m) => [m.fn, m.removed, m] as const))('%s without %s: a scenario fails', async (_, __, m) => {
    const result = await runMutation(m);
    expect(result.caughtBy, `removing ${m.removed} from ${m.fn} went unnoticed by every scenario`).toBeDefined();
  });
});
