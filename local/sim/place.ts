import { CloudFormationModel } from './cloudformation.js';
import { CloudWatchModel } from './cloudwatch.js';
import { EcsModel } from './ecs.js';
import { Elbv2Model } from './more.js';

/**
 * A place of the simulated organization: one account in one region, with its own ECS services,
 * load balancers and target groups, and CloudWatch (alarms, metrics). Each emits its events with
 * this account and region. Route53 is global: it belongs to the account, not to a place.
 */
export class Place {
  readonly ecs: EcsModel;
  readonly cloudwatch: CloudWatchModel;
  readonly elbv2: Elbv2Model;
  /** Its stacks (the forwarders deployed there). */
  readonly cloudformation: CloudFormationModel;

  constructor(
    readonly account: string,
    readonly region: string,
  ) {
    this.ecs = new EcsModel(account, region);
    this.cloudwatch = new CloudWatchModel(account, region);
    this.elbv2 = new Elbv2Model(this.ecs, account, region);
    this.cloudformation = new CloudFormationModel(account, region);
  }
}

/** How places are told apart. */
export const placeKey = (account: string, region: string) => `${account}/${region}`;
