import { awsError } from './errors.js';

/** A stack as DescribeStacks returns it (what `status` reads of it). */
export interface SimStack {
  StackName: string;
  StackId: string;
  StackStatus: string;
  CreationTime: Date;
}

/** A template's resources, as CloudFormation reads them. */
export interface SimTemplate {
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
}

/**
 * CloudFormation of a place: the stacks deployed there (the forwarders, local/forwarders.ts),
 * each with its template. Stack names are per account and region, as CloudFormation's are.
 */
export class CloudFormationModel {
  private stacks = new Map<string, { stack: SimStack; template: SimTemplate }>();

  constructor(
    private account: string,
    private region: string,
  ) {}

  /** What `aws cloudformation deploy` of `template` leaves: a stack in `status` (its resources exist when it is CREATE_COMPLETE). */
  putStack(name: string, template: SimTemplate, status = 'CREATE_COMPLETE'): SimStack {
    const stack = { StackName: name, StackId: `arn:aws:cloudformation:${this.region}:${this.account}:stack/${name}/${crypto.randomUUID()}`, StackStatus: status, CreationTime: new Date() };
    this.stacks.set(name, { stack, template });
    return stack;
  }

  /** The templates of the stacks whose resources exist: what runs in the place. */
  deployed(): SimTemplate[] {
    return [...this.stacks.values()].filter((s) => s.stack.StackStatus === 'CREATE_COMPLETE' || s.stack.StackStatus.startsWith('UPDATE_')).map((s) => s.template);
  }

  /** One stack by name or id (one it does not have: ValidationError, as CloudFormation answers), or every stack. */
  describeStacks(input: { StackName?: string }): { Stacks: SimStack[] } {
    const stacks = [...this.stacks.values()].map((s) => s.stack);
    if (input.StackName === undefined) return { Stacks: stacks };
    const stack = stacks.find((s) => s.StackName === input.StackName || s.StackId === input.StackName);
    if (!stack) return awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    return { Stacks: [stack] };
  }
}
