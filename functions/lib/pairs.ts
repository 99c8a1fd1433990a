import shipped from '../../canary.config.js';
import { parseConfig, type CanaryConfig, type CanaryConfigInput } from './config.js';

let current: CanaryConfigInput = shipped;
let parsed: CanaryConfig | undefined;

/** The pairs this deployment manages (canary.config.ts, bundled into each function), validated once. */
export function pairsConfig(): CanaryConfig {
  return (parsed ??= parseConfig(current));
}

/** Replaces the configuration for local runs (the demo and the tests); deployed functions never call it. */
export function useConfig(config: CanaryConfigInput): void {
  current = config;
  parsed = undefined;
}
