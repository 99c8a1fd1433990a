import { z } from 'zod';
import { CanaryError } from './errors.js';
import { expandSteps, scheduleProblem } from './schedule.js';

/** Record names are compared the way Route53 stores them: lower case, with the final dot. */
export const normalizeRecordName = (name: string): string => {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
};

const name = (what: string, max: number, pattern: RegExp, hint: string) =>
  z.string({ error: `${what} must be a string` }).min(1, `${what} must not be empty`).max(max).regex(pattern, hint);

const Service = z.strictObject({
  cluster: name('cluster', 255, /^[A-Za-z0-9_-]+$/, 'cluster: letters, digits, - and _ only'),
  service: name('service', 255, /^[A-Za-z0-9_-]+$/, 'service: letters, digits, - and _ only'),
  setIdentifier: z.string().min(1, 'setIdentifier must not be empty').max(128),
});

const Steps = z
  .union([
    z.array(z.number()),
    z.strictObject({ canary: z.number().int().min(1).max(99) }),
    z.strictObject({ linear: z.number().int().min(1).max(100) }),
  ])
  .superRefine((spec, ctx) => {
    const problem = scheduleProblem(expandSteps(spec));
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

const Pair = z
  .strictObject({
    /** Names the pair in execution names, logs and notifications. */
    name: name('name', 32, /^[a-z0-9]+(-[a-z0-9]+)*$/, 'name: lower-case letters and digits, single - between them'),
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,32}$/, 'hostedZoneId must look like Z0123456789ABCDEFGHIJ'),
    recordName: z
      .string()
      .regex(/^(\*\.)?([a-zA-Z0-9_-]{1,63}\.)+[a-zA-Z]{2,63}\.?$/, 'recordName must be a DNS name such as app.example.com')
      .transform(normalizeRecordName),
    recordType: z.enum(['A', 'AAAA', 'CNAME']),
    /** The two ECS services; which one is live is read from the weights, never configured. */
    services: z.tuple([Service, Service]),
    alarms: z.array(z.string().min(1).max(255)).max(100).default([]),
    steps: Steps,
    /** How long green is judged after each shift, once the DNS wait is over. */
    bakeSeconds: seconds(0, 86_400).default(300),
    /** How often green is judged during a bake. */
    pollSeconds: seconds(1, 3_600).default(30),
    /** Least wait after a shift before judging: the TTL floor, and the whole wait for alias records. */
    minWaitSeconds: seconds(0, 3_600).default(60),
    /** A canary that runs longer than this rolls back. */
    executionTimeoutSeconds: seconds(60, 86_400).default(4 * 3_600),
  })
  .superRefine((pair, ctx) => {
    const [a, b] = pair.services;
    if (a.cluster === b.cluster && a.service === b.service)
      ctx.addIssue({ code: 'custom', path: ['services'], message: 'the two services must differ' });
    if (a.setIdentifier === b.setIdentifier)
      ctx.addIssue({ code: 'custom', path: ['services'], message: 'the two setIdentifiers must differ' });
    if (new Set(pair.alarms).size !== pair.alarms.length)
      ctx.addIssue({ code: 'custom', path: ['alarms'], message: 'alarm names must be unique' });
    const needed = minimumRunSeconds(pair);
    if (pair.executionTimeoutSeconds < needed)
      ctx.addIssue({
        code: 'custom',
        path: ['executionTimeoutSeconds'],
        message: `must be at least ${needed} s: ${expandSteps(pair.steps).length} steps of ${pair.minWaitSeconds} s DNS wait + ${pair.bakeSeconds} s bake`,
      });
  });

/** The least time a canary of this pair can take, before INSYNC waits. */
export function minimumRunSeconds(pair: { steps: z.infer<typeof Steps>; minWaitSeconds: number; bakeSeconds: number }): number {
  return expandSteps(pair.steps).length * (pair.minWaitSeconds + pair.bakeSeconds);
}

const Config = z
  .strictObject({ pairs: z.array(Pair).min(1, 'declare at least one pair') })
  .superRefine((config, ctx) => {
    const seen = new Map<string, string>();
    const claim = (key: string, owner: string, path: (string | number)[], what: string) => {
      const other = seen.get(key);
      if (other) ctx.addIssue({ code: 'custom', path, message: `${what} is already used by pair ${other}` });
      else seen.set(key, owner);
    };
    config.pairs.forEach((pair, i) => {
      claim(`name:${pair.name}`, pair.name, ['pairs', i, 'name'], `name ${pair.name}`);
      claim(`record:${pair.hostedZoneId}:${pair.recordName}:${pair.recordType}`, pair.name, ['pairs', i, 'recordName'], `record ${pair.recordName} ${pair.recordType}`);
      pair.services.forEach((s, j) =>
        claim(`service:${s.cluster}/${s.service}`, pair.name, ['pairs', i, 'services', j], `service ${s.cluster}/${s.service}`),
      );
    });
  });

export type CanaryConfigInput = z.input<typeof Config>;
export type CanaryConfig = z.output<typeof Config>;
export type PairConfig = CanaryConfig['pairs'][number];
export type ServiceConfig = PairConfig['services'][number];

/** Identity for configuration files: gives them types and editor completion. */
export const defineConfig = (config: CanaryConfigInput): CanaryConfigInput => config;

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');

/** Validates configuration; the error names every offending field, e.g. `pairs[0].steps: the last step must be 100`. */
export function parseConfig(input: unknown): CanaryConfig {
  const result = Config.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${formatPath(issue.path) || '(config)'}: ${issue.message}`);
  throw new CanaryError('InvalidConfig', `invalid canary configuration:\n  ${lines.join('\n  ')}`);
}

/** The configured pair that owns an ECS service, with the service's index in that pair. */
export function findPairByService(config: CanaryConfig, cluster: string, service: string): { pair: PairConfig; index: 0 | 1 } | undefined {
  for (const pair of config.pairs) {
    const index = pair.services.findIndex((s) => s.cluster === cluster && s.service === service);
    if (index === 0 || index === 1) return { pair, index };
  }
  return undefined;
}
