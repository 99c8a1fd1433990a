import { afterAll, beforeAll } from 'vitest';
import { SimulatedAccount } from '../../local/sim/account.js';
import { adapterContract } from './adapters.js';

// The adapter contract against the in-process simulated account (real time: Route53 changes
// take 1.5 s to be INSYNC here, so the waiter really waits; the cases that need long waits
// switch to virtual time themselves). The contract is about what each call answers, as moto
// answers it: the account's own rate limits are off here (moto has none) and are tested on
// their own in test/throttling.test.ts; throttling cases inject it.
let sim: SimulatedAccount;
let uninstall: () => void;
beforeAll(() => {
  sim = new SimulatedAccount({ throttling: false });
  sim.route53.insyncDelayMs = 1_500;
  uninstall = sim.install();
});
afterAll(() => uninstall());

adapterContract('simulator', () => sim);
