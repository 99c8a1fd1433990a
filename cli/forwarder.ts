/**
 * `npx ecs-dns-canary forwarder --region R [--account A]`: the CloudFormation template of the
 * forwarder of one place where sides run (functions/lib/forwarder.ts), for `aws cloudformation
 * deploy` there; and what `status` says of the forwarders: a place without one sends the stack
 * nothing, so no canary of its sides ever starts, and nothing else says so.
 */
import { stackStatus } from '../functions/lib/aws/cloudformation.js';
import { AWS_REGION, servicePlaces, type CanaryConfig, type Place } from '../functions/lib/config.js';
import { fail } from '../functions/lib/errors.js';
import { forwarderStackName, forwarderTemplate, type ForwarderTemplate } from '../functions/lib/forwarder.js';
import { callerAccount } from './iam.js';

export interface ForwarderOptions {
  stage: string;
  /** The forwarder's place: its region, and its account (default: the stack's). */
  region: string | undefined;
  account: string | undefined;
  /** The stack's place: its account (default: the caller's, STS GetCallerIdentity) and region (default: AWS_REGION). */
  stackAccount: string | undefined;
  stackRegion: string | undefined;
}

const ACCOUNT = /^\d{12}$/;

const checked = (option: string, value: string | undefined, pattern: RegExp, what: string) => {
  if (value !== undefined && !pattern.test(value)) fail('UsageError', `${option} takes ${what}, got ${value}`);
  return value;
};

/** How the template printed for `place` is deployed there (with credentials of its account). */
export const deployCommand = (stage: string, place: Place) =>
  `aws cloudformation deploy --template-file forwarder.json --stack-name ${forwarderStackName(stage)} --capabilities CAPABILITY_NAMED_IAM --region ${place.region}`;

/** The command that prints the forwarder of `place`. */
const printCommand = (place: Place, stack: Place) => `npx ecs-dns-canary forwarder --region ${place.region}${place.account !== stack.account ? ` --account ${place.account}` : ''}`;

export async function forwarderOf(config: CanaryConfig, options: ForwarderOptions): Promise<{ template: ForwarderTemplate; place: Place; stack: Place }> {
  const region = checked('--region', options.region, AWS_REGION, 'an AWS region such as eu-central-1 (where the forwarder goes)');
  const account = checked('--account', options.account, ACCOUNT, 'a 12-digit account id (where the forwarder goes)');
  const stackRegion = checked('--stack-region', options.stackRegion, AWS_REGION, 'an AWS region such as eu-west-1');
  checked('--stack-account', options.stackAccount, ACCOUNT, 'a 12-digit account id');
  if (!region) return fail('UsageError', 'forwarder needs the region it is for: npx ecs-dns-canary forwarder --region eu-central-1 [--account 111122223333]');
  if (!stackRegion) return fail('UsageError', "forwarder needs the stack's region (the bus it sends to): --stack-region or AWS_REGION");
  const stack = { account: options.stackAccount ?? (await callerAccount()), region: stackRegion };
  const place = { account: account ?? stack.account, region };
  const template = forwarderTemplate(config, { ...stack, stage: options.stage }, place);
  return { template, place, stack };
}

/** What the operator is told with the template (on stderr: stdout is the template). */
export function formatForwarder(place: Place, stack: Place, stage: string, template: ForwarderTemplate): string[] {
  const rules = Object.keys(template.Resources).filter((id) => template.Resources[id]!.Type === 'AWS::Events::Rule');
  return [
    `The forwarder of account ${place.account}, region ${place.region} (rules ${rules.join(', ')}) to the stack's bus in ${stack.account}/${stack.region} (stage ${stage}).`,
    place.account === stack.account
      ? `Save it and deploy it with credentials of account ${place.account}:`
      : `Save it and deploy it with credentials of account ${place.account}, before \`sls deploy\` of the stack (whose bus policy names its role):`,
    `  ${printCommand(place, stack)} > forwarder.json`,
    `  ${deployCommand(stage, place)}`,
  ];
}

/** A place where sides run, and the forwarder stack found there. */
export interface ForwarderCheck extends Place {
  stackName: string;
  /** DEPLOYED; MISSING (none, or one without its resources); UNSEEN: another account's, which the operator's credentials cannot read. */
  state: 'DEPLOYED' | 'MISSING' | 'UNSEEN';
  /** The stack's status, when there is one. */
  stackStatus: string | null;
  /** What to run: print and deploy the forwarder (MISSING), or look for it with that account's credentials (UNSEEN). */
  next: string | null;
}

/** A stack that has its resources (created, or updated since): CREATE_IN_PROGRESS, CREATE_FAILED, ROLLBACK_* and DELETE_* have none yet or no more. */
const HAS_RESOURCES = /^(CREATE_COMPLETE|UPDATE_|IMPORT_COMPLETE)/;

/**
 * The forwarders of the places where `config`'s sides run (none when every side is in the
 * stack's account and region), read with the operator's credentials: DescribeStacks in each
 * place of their own account; another account's stacks they cannot see.
 */
export async function forwarderChecks(config: Pick<CanaryConfig, 'pairs'>, stage: string, stackRegion: string | undefined): Promise<ForwarderCheck[]> {
  // Without a side that names a region or a role there is nothing to look for (and no STS call).
  if (!config.pairs.some((p) => p.services.some((s) => s.roleArn || (s.region && s.region !== stackRegion)))) return [];
  if (!stackRegion) return fail('UsageError', "no AWS region: set AWS_REGION or pass --region (the stack's)");
  const stack = { account: await callerAccount(), region: stackRegion };
  const stackName = forwarderStackName(stage);
  return Promise.all(
    servicePlaces(config, stack).map(async (place): Promise<ForwarderCheck> => {
      if (place.account !== stack.account)
        return { ...place, stackName, state: 'UNSEEN', stackStatus: null, next: `aws cloudformation describe-stacks --stack-name ${stackName} --region ${place.region} (with credentials of account ${place.account})` };
      const status = await stackStatus(stackName, place.region);
      const deployed = status !== undefined && HAS_RESOURCES.test(status);
      return { ...place, stackName, state: deployed ? 'DEPLOYED' : 'MISSING', stackStatus: status ?? null, next: deployed ? null : `${printCommand(place, stack)} > forwarder.json && ${deployCommand(stage, place)}` };
    }),
  );
}

export function formatForwarderChecks(checks: ForwarderCheck[]): string[] {
  if (checks.length === 0) return [];
  return [
    'forwarders (the events of sides elsewhere reach the stack only through one in their place)',
    ...checks.map((c) => {
      const where = `  ${c.account}/${c.region}`;
      if (c.state === 'DEPLOYED') return `${where}  ${c.stackName} ${c.stackStatus}`;
      if (c.state === 'UNSEEN') return `${where}  another account: your credentials cannot see its stacks; check there: ${c.next}`;
      return `${where}  NO FORWARDER STACK${c.stackStatus ? ` (${c.stackName} is ${c.stackStatus})` : ''}: no event of its sides reaches the stack, so no canary of them starts; deploy it: ${c.next}`;
    }),
  ];
}
