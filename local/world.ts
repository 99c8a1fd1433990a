/** A simulated account seeded with one pair or many (blue live), virtual time, and the stack wired in process: for tests, the demo, the fault matrix and the benchmark. */
import { parseConfig, servicePlaces, type CanaryConfigInput, type PairConfig, type Place } from '../functions/lib/config.js';
import { eventBusPolicyResources, forwarderTemplate, type CfnResource, type ForwarderTemplate } from '../functions/lib/forwarder.js';
import { deployForwarder } from './forwarders.js';
import { claimFor, claimItem, claimOf, type PairClaim } from '../functions/lib/pair-lock.js';
import { useConfig } from '../functions/lib/pairs.js';
import { declareFunctions, STATE_MACHINE_NAME } from '../functions/lib/stack.js';
import example from './example.config.js';
import { SOURCE_HANDLERS } from './handlers.js';
import type { Handler } from './lambda.js';
import { LocalCanary, seedPair, taskDefinitionArn, type LocalCanaryOptions, type SeedOptions } from './local-canary.js';
import { SimulatedAccount, SIM_ACCOUNT, SIM_REGION } from './sim/account.js';
import { rolePolicies } from '../functions/lib/roles.js';
import { forgetAssumedRoles } from '../functions/lib/aws/sts.js';
import type { SimRole } from './sim/sts.js';
import { LatencyModel } from './sim/latency.js';
import type { EcsDeploymentEvent } from './sim/ecs.js';
import { LOCAL_RESOURCES, stackFromDeclarations, type LocalStack } from './stack.js';
import type { ExecutionResult } from './step-functions.js';
import { realWork, VirtualClock } from './virtual-time.js';
import { run as runCli } from '../cli/main.js';
import { asOperator } from './lambda.js';

export const examplePair = (): CanaryConfigInput['pairs'][number] => structuredClone(example.pairs[0]!) as CanaryConfigInput['pairs'][number];

/** The k-th of many pairs like the example (k = 0 is the example itself): its own zone, record, services and alarms. */
export function nthPair(k: number): CanaryConfigInput['pairs'][number] {
  const pair = examplePair();
  if (k === 0) return pair;
  return {
    ...pair,
    name: `shop-web-${k}`,
    hostedZoneId: `Z0EXAMPLE${12345 + k}`,
    recordName: `shop${k}.example.com`,
    services: pair.services.map((s) => ({ ...s, service: `${s.service}-${k}`, setIdentifier: `${s.setIdentifier}-${k}` })) as typeof pair.services,
    alarms: (pair.alarms ?? []).map((a) => a.replace('shop-web', `shop-web-${k}`)),
  };
}

/** The weights of the pair as (blue, green), blue being the service live before the canary. */
export function weightsOf(sim: SimulatedAccount, pair: PairConfig, live: 0 | 1 = 0) {
  const w = sim.route53Of(pair.hostedZoneId).weights(pair.hostedZoneId, pair.recordName, pair.recordType);
  const blue = pair.services[live].setIdentifier;
  const green = pair.services[1 - live]!.setIdentifier;
  return { blue: w[blue]!, green: w[green]! };
}

/** Green weights written by each successful change batch, in order. */
export function greenSequence(sim: SimulatedAccount, pair: PairConfig, live: 0 | 1 = 0): number[] {
  const green = pair.services[1 - live]!.setIdentifier;
  return sim.route53Of(pair.hostedZoneId).applied
    .slice(1) // the seeding CREATE
    .map((c) => c.changes.find((x) => x.ResourceRecordSet?.SetIdentifier === green)?.ResourceRecordSet?.Weight ?? -1);
}

export interface World {
  sim: SimulatedAccount;
  pair: PairConfig;
  /** Every pair of the account (`pairs` option); `pair` is the first. */
  pairs: PairConfig[];
  clock: VirtualClock;
  /** AWS's latencies (local/sim/latency.ts), unless the world was made with `latency: false`. */
  latency?: LatencyModel;
  canary: LocalCanary;
  live: 0 | 1;
  green: PairConfig['services'][number];
  /** Push a new task definition to the idle service, where it runs; the rollout completes after its place's ecs.rolloutMs. */
  deployGreen(revision?: number): string;
  /** Deploy green and let the rollout finish, without starting a canary: the COMPLETED event, as green's place sent it. */
  completedDeployment(): Promise<EcsDeploymentEvent>;
  /** Deploy and run until every canary it started has ended. */
  runCanary(): Promise<Awaited<ReturnType<LocalCanary['settled']>>>;
  /** Start one execution of the state machine with this input (no trigger, no deployment) and run it to its end. */
  runExecution(input: unknown, name?: string): Promise<ExecutionResult>;
  /** ChangeResourceRecordSets calls that reached Route53, failed ones included. */
  route53Writes(): number;
  /** Every change batch that writes green's weight, with that weight. */
  onGreenWeight(listener: (weight: number) => void): void;
  /** Runs `action` once, `delayMs` of virtual time after the first change batch that sets green to `percent`. */
  whenGreenReaches(percent: number, action: () => void, delayMs?: number): void;
  /** The pair's claim as DynamoDB holds it now (read by the operator, outside any function). */
  claim(): PairClaim | undefined;
  /** Puts a claim of the pair (blue live) by `executionArn` in the table, as if that canary had written it. */
  seedClaim(executionArn: string, patch?: Partial<PairClaim>): void;
  /** What an operator (or another tool) does by hand: UPSERT the pair's weights. */
  setWeights(blue: number, green: number): void;
  /** The functions as they run here: environment, role, timeout. */
  stack: LocalStack;
  /** Invoke a function as Lambda would (its environment, its role). */
  lambda(name: string): (event: unknown) => Promise<unknown>;
  /** `npx ecs-dns-canary <argv>` by an operator (their own credentials), in virtual time: its exit code and output. */
  operator(...argv: string[]): Promise<{ code: number; out: string; err: string; json?: any }>;
  /** Restores the real clock, the SDK clients and the example configuration. */
  dispose(): void;
}

export interface WorldOptions {
  pair?: Partial<CanaryConfigInput['pairs'][number]>;
  /** How many pairs the account has (like the example, see nthPair); default 1. */
  pairs?: number;
  /** AWS's own throttling in the simulated account; default on. */
  throttling?: boolean;
  /**
   * AWS's latencies (local/sim/latency.ts: Lambda cold and warm starts, state transitions,
   * EventBridge delivery, Route53 INSYNC as a distribution); default on. A test that needs exact
   * times passes false: INSYNC after sim.route53.insyncDelayMs, events after EVENT_DELIVERY_MS, nothing else.
   */
  latency?: boolean;
  /** Seeds the latency model's draws; default faultSeed, else 1. */
  latencySeed?: number;
  seed?: SeedOptions;
  start?: LocalCanaryOptions;
  faultSeed?: number;
  /** The functions as packaged (env, role, timeout); default: what the declarations package. */
  stack?: LocalStack;
  /** Changes the stack before it runs (the mutation tests remove an env var or a statement). */
  mutate?: (stack: LocalStack) => void;
  /** The handlers; default: the TypeScript sources. */
  handlers?: Record<string, Handler>;
  /**
   * Each role in another account (a zone's dnsRoleArn, a side's roleArn) is created there from
   * `npx ecs-dns-canary iam`'s policies, changed first by `role` (undefined: no such role).
   */
  role?: (role: SimRole) => SimRole | undefined;
  /** More principals those roles trust (`iam --trust`): the operator, for the CLI's reads through them. */
  operatorTrust?: string[];
  /**
   * Sides elsewhere: the forwarder of each of their places is deployed there from `npx
   * ecs-dns-canary forwarder`'s template, changed first by `forwarder` (undefined: none there).
   */
  forwarder?: (template: ForwarderTemplate, place: Place) => ForwarderTemplate | undefined;
  /** Changes the stack's bus policy (eventBusPolicyResources, as packaged) before it is deployed. */
  busPolicy?: (resources: Record<string, CfnResource>) => Record<string, CfnResource>;
}

/** A simulated account seeded with its pairs (blue live), virtual time, and the stack wired in process. */
export function createWorld(options: WorldOptions = {}): World {
  const cleanups: (() => void)[] = [];
  const config = { pairs: Array.from({ length: options.pairs ?? 1 }, (_, k) => ({ ...nthPair(k), ...(k === 0 ? options.pair : {}) })) };
  useConfig(config);
  cleanups.push(() => useConfig(example));
  const parsed = parseConfig(config);
  const pair = parsed.pairs[0]!;
  const declarations = declareFunctions(parsed, STATE_MACHINE_NAME);
  const stack = structuredClone(options.stack ?? stackFromDeclarations(parsed, declarations));
  options.mutate?.(stack);
  // Virtual time first: the account is seeded on the clock it runs on (its traffic starts then).
  const clock = VirtualClock.install(Date.parse('2026-11-23T09:00:00Z'));
  cleanups.push(() => clock.uninstall());
  const sim = new SimulatedAccount({ seed: options.faultSeed, throttling: options.throttling });
  for (const p of parsed.pairs) seedPair(sim, p, options.seed);
  forgetAssumedRoles();
  for (const r of rolePolicies(parsed, { account: SIM_ACCOUNT, region: SIM_REGION, stage: 'prod', trust: options.operatorTrust })) {
    const role = (options.role ?? ((x) => x))({ arn: r.roleArn, trustPolicy: r.trustPolicy, permissionPolicy: r.permissionPolicy });
    if (role) sim.addAccount(r.account).createRole(role);
  }
  cleanups.push(sim.install());
  const latency = options.latency === false ? undefined : new LatencyModel(options.latencySeed ?? options.faultSeed ?? 1);
  if (latency) sim.route53.insyncDelay = () => latency.draw('route53Insync');
  if (latency) for (const other of sim.accounts.values()) other.route53.insyncDelay = () => latency.draw('route53Insync');
  for (const place of servicePlaces(parsed, sim.home)) {
    const template = (options.forwarder ?? ((t) => t))(forwarderTemplate(parsed, { account: SIM_ACCOUNT, region: SIM_REGION, stage: 'prod' }, place), place);
    if (template) deployForwarder(sim, template, place);
  }
  const busPolicy = (options.busPolicy ?? ((r) => r))(eventBusPolicyResources(parsed, 'prod'));
  const canary = new LocalCanary(sim, stack, options.handlers ?? SOURCE_HANDLERS, declarations, { ...(latency ? { latency } : {}), busPolicy, ...options.start });
  cleanups.push(() => canary.stop());
  const live = options.seed?.live ?? 0;
  const green = pair.services[1 - live]!;
  // Green is deployed where it runs: its place's ECS, a task definition of that place.
  const greenPlace = sim.placeOf(green);
  const greenEcs = greenPlace.ecs;
  const deployGreen = (revision = 2) => greenEcs.deploy(green.cluster, green.service, taskDefinitionArn(green.service, revision, greenPlace));
  // Green's COMPLETED events, where green runs (whether or not a forwarder brings them to the stack).
  const completed: EcsDeploymentEvent[] = [];
  greenEcs.onDeploymentEvent((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED' && completed.push(e));
  return {
    sim,
    pair,
    pairs: parsed.pairs,
    clock,
    ...(latency ? { latency } : {}),
    canary,
    stack,
    lambda: (name) => canary.lambda(name),
    async operator(...argv) {
      let out = '';
      let err = '';
      const io = { out: { write: (s: string) => ((out += s), true), columns: 80 }, err: { write: (s: string) => ((err += s), true) } };
      const work = asOperator(() => runCli(argv, io, { config: parsed, now: Date.now }));
      // A one-shot command takes no virtual time (no timer jumps while its calls are in flight;
      // from inside a run, that run drives time). `watch` lives on timers, as the canary does,
      // and drives them until it ends.
      const code = argv[0] === 'watch' ? await clock.run(work) : clock.running ? await realWork(work) : await clock.run(realWork(work));
      const last = out.trim().split('\n').at(-1) ?? '';
      return { code, out, err, ...(argv.includes('--json') && last.startsWith('{') ? { json: JSON.parse(last) } : {}) };
    },
    claim: () => sim.dynamodb.items(LOCAL_RESOURCES.claimsTable).map(claimOf).find((c) => c?.pair === pair.name),
    seedClaim(executionArn, patch = {}) {
      const dnsRole = pair.dnsRoleArn ? { roleArn: pair.dnsRoleArn, ...(pair.dnsExternalId ? { externalId: pair.dnsExternalId } : {}) } : undefined;
      const plan = { ...pair, pair: pair.name, executionArn, deploymentId: 'ecs-svc/1', blue: pair.services[live], green: { ...green, taskDefinition: 'x' }, steps: [10, 100], ...(dnsRole ? { dnsRole } : {}) };
      sim.dynamodb.putItem({ TableName: LOCAL_RESOURCES.claimsTable, Item: claimItem({ ...claimFor(plan as never, 3600), ...patch }) });
    },
    setWeights(blue, greenWeight) {
      const changes = sim
        .route53Of(pair.hostedZoneId)
        .recordSets(pair.hostedZoneId)
        .filter((r) => r.SetIdentifier && r.Name === pair.recordName && r.Type === pair.recordType)
        .map((r) => ({ Action: 'UPSERT' as const, ResourceRecordSet: { ...r, Weight: r.SetIdentifier === green.setIdentifier ? greenWeight : blue } }));
      sim.route53Of(pair.hostedZoneId).changeResourceRecordSets({ HostedZoneId: pair.hostedZoneId, ChangeBatch: { Changes: changes } });
    },
    live,
    green,
    deployGreen,
    async runCanary() {
      deployGreen();
      await clock.run(new Promise((resolve) => setTimeout(resolve, greenEcs.rolloutMs + 1)));
      return clock.run(canary.settled());
    },
    async completedDeployment() {
      canary.trigger = false;
      deployGreen();
      await clock.run(new Promise((resolve) => setTimeout(resolve, greenEcs.rolloutMs + 1)));
      return completed.at(-1)!;
    },
    runExecution(input, name = 'test-execution') {
      sim.startExecution({ stateMachineArn: LOCAL_RESOURCES.stateMachineArn, name, input: JSON.stringify(input) });
      return clock.run(canary.results.at(-1)!);
    },
    route53Writes: () => sim.count('route53', 'ChangeResourceRecordSets', { includeErrors: true }),
    onGreenWeight(listener) {
      sim.route53Of(pair.hostedZoneId).onChange((c) => {
        const weight = c.changes.find((x) => x.ResourceRecordSet?.SetIdentifier === green.setIdentifier)?.ResourceRecordSet?.Weight;
        if (weight !== undefined) listener(weight);
      });
    },
    whenGreenReaches(percent, action, delayMs = 0) {
      let done = false;
      this.onGreenWeight((weight) => {
        if (weight !== percent || done) return;
        done = true;
        setTimeout(action, delayMs);
      });
    },
    dispose: () => {
      for (const f of cleanups.splice(0).reverse()) f();
    },
  };
}
