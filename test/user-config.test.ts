import { describe, expect, it } from 'vitest';
import userConfig from '../canary.config.js';
import { configProblems } from '../functions/lib/config.js';

// Your pairs, checked on their own: every other test runs on its own fixture
// (local/example.config.ts), so any valid canary.config.ts keeps the suite green, and an
// invalid one fails here alone, with one line per bad field.
describe('canary.config.ts', () => {
  it('is valid', () => {
    expect(configProblems(userConfig), 'canary.config.ts: invalid canary configuration').toEqual([]);
  });
});
