import { forwarderStackName, stackBusArn, type CfnResource, type ForwarderTemplate } from '../functions/lib/forwarder.js';
import { matches } from './local-canary.js';
import type { SimulatedAccount } from './sim/account.js';
import type { SimTemplate } from './sim/cloudformation.js';
import { SIM_ACCOUNT, SIM_REGION } from './sim/constants.js';
import type { Place } from './sim/place.js';
import { resolve } from './stack.js';

/**
 * EventBridge between the places of the simulated organization. Only the stack's own place's
 * events are on the stack's default bus; another place's get there through the rules of the
 * forwarder stack deployed in it, read from its template (each rule's EventPattern, its targets'
 * Arn and RoleArn, the role's trust and policy), and only as far as AWS lets them: the target is
 * the stack's bus, EventBridge of that account may assume the role, the role may put events on
 * that bus, and from another account the bus policy names the role.
 */

/** The stack's default bus. */
export const STACK_BUS = stackBusArn({ account: SIM_ACCOUNT, region: SIM_REGION, stage: 'prod' });

type Resource = SimTemplate['Resources'][string];
type Statement = { Effect?: string; Principal?: { Service?: string | string[]; AWS?: string | string[] }; Action?: string | string[]; Resource?: string | string[]; Condition?: Record<string, Record<string, string | string[]>> };
const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : [x].flat() as T[]);

/** `aws cloudformation deploy` of a forwarder template in `place`: its stack, and so its rules and role, are there. */
export function deployForwarder(sim: SimulatedAccount, template: ForwarderTemplate, place: { account: string; region: string }, stackName = forwarderStackName('prod')): void {
  for (const [id, rule] of Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule'))
    for (const target of list<{ RoleArn?: unknown }>(rule.Properties.Targets))
      if (target.RoleArn !== undefined && roleOf(template, target.RoleArn) === undefined)
        throw new Error(`${id}: the simulated EventBridge reads a rule's role from its template (Fn::GetAtt of an AWS::IAM::Role there), got ${JSON.stringify(target.RoleArn)}`);
  sim.place(place.account, place.region).cloudformation.putStack(stackName, template);
}

/** The statements of the stack's bus policy (its AWS::Events::EventBusPolicy resources, as packaged), resolved in the simulated account. */
export function busPolicyStatements(resources: Record<string, CfnResource>): Statement[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Events::EventBusPolicy')
    .map(([id, r]) => resolve(r.Properties.Statement, id) as Statement);
}

/** Whether EventBridge in `place` puts `event` on the stack's default bus. */
export function forwards(place: Place, event: Record<string, unknown>, busPolicy: Statement[]): boolean {
  return place.cloudformation.deployed().some((template) =>
    Object.values(template.Resources).some(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        r.Properties.State !== 'DISABLED' &&
        (r.Properties.EventBusName ?? 'default') === 'default' &&
        matches(r.Properties.EventPattern, event) &&
        list<{ Arn: string; RoleArn?: unknown }>(r.Properties.Targets).some((t) => t.Arn === STACK_BUS && t.RoleArn !== undefined && sends(template, t.RoleArn, place, busPolicy)),
    ),
  );
}

/** The role a target names, in its own template. */
function roleOf(template: SimTemplate, roleArn: unknown): Resource | undefined {
  const att = (roleArn as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  const role = att && att[1] === 'Arn' ? template.Resources[att[0]] : undefined;
  return role?.Type === 'AWS::IAM::Role' ? role : undefined;
}

/** EventBridge of `place` assumes the role and puts the event on the stack's bus with it. */
function sends(template: SimTemplate, roleArn: unknown, place: Place, busPolicy: Statement[]): boolean {
  const role = roleOf(template, roleArn)!;
  const arn = `arn:aws:iam::${place.account}:role/${role.Properties.RoleName}`;
  const trusted = list<Statement>(role.Properties.AssumeRolePolicyDocument?.Statement).some((s) => {
    const sourceAccount = s.Condition?.StringEquals?.['aws:SourceAccount'];
    return s.Effect === 'Allow' && list(s.Principal?.Service).includes('events.amazonaws.com') && list(s.Action).includes('sts:AssumeRole') && (sourceAccount === undefined || list(sourceAccount).includes(place.account));
  });
  const putsOnBus = (s: Statement) => s.Effect === 'Allow' && list(s.Action).includes('events:PutEvents') && list(s.Resource).includes(STACK_BUS);
  const granted = list<{ PolicyDocument: { Statement: Statement | Statement[] } }>(role.Properties.Policies).some((p) => list(p.PolicyDocument.Statement).some(putsOnBus));
  // The bus is another account's resource: its policy must name the role (within one account the role's own policy is enough).
  const letIn = place.account === SIM_ACCOUNT || busPolicy.some((s) => putsOnBus(s) && list(s.Principal?.AWS).includes(arn));
  return trusted && granted && letIn;
}
