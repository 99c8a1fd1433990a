/**
 * Every failure the canary reports has a name from this list. Step Functions shows the
 * name as the execution's (or the state's) Error, and the message as its Cause, so each
 * message says what was found and what to fix.
 */
export const ERROR_NAMES = [
  // Bad input: raised before the first shift, with no change to DNS.
  'InvalidConfig',
  'MalformedEvent',
  'EventTooLarge',
  'ForeignEvent',
  'UnknownService',
  'PairMismatch',
  'PairBusy',
  'CanaryInProgress',
  'HostedZoneNotFound',
  'DnsRoleNotAssumable',
  'DnsRoleNotTrusted',
  'ServiceRoleNotAssumable',
  'ServiceRoleNotTrusted',
  'RecordNotFound',
  'RecordNotWeighted',
  'UnexpectedRecordSet',
  'NoLiveService',
  'TrafficAlreadySplit',
  'DeploymentToLiveService',
  'ServiceNotFound',
  'GreenNotSteady',
  'DeploymentMismatch',
  'AlarmNotFound',
  'AlarmAlreadyFiring',
  'AnalysisUnavailable',
  'SmokeTestFailed',
  'HookFailed',
  // During the canary: each one sends the run to the rollback path.
  'WeightsChangedOutside',
  'ClaimLost',
  'Route53Throttled',
  'Route53ChangeNotInSync',
  // What stops a running canary at once (the listener's task fails with it), or at a gate.
  'GreenUnhealthy',
  'GreenInconclusive',
  'AlarmFired',
  'GreenDeploymentFailed',
  'GreenTasksFailing',
  'AbortedByOperator',
  'RejectedByOperator',
  'ApprovalTimedOut',
  // What an operator's command is refused with (the CLI exits 2).
  'UnknownPair',
  'PairIdle',
  'CanaryEnding',
  'NotAtGate',
  'UsageError',
  'DashboardOff',
  // How a refused or rolled-back run ends.
  'CanaryRefused',
  'CanaryRolledBack',
  'RollbackFailed',
] as const;

export type ErrorName = (typeof ERROR_NAMES)[number];

export class CanaryError extends Error {
  override readonly name: ErrorName;
  constructor(name: ErrorName, message: string) {
    super(message);
    this.name = name;
  }
}

export const fail = (name: ErrorName, message: string): never => {
  throw new CanaryError(name, message);
};

export const isCanaryError = (e: unknown, name?: ErrorName): e is CanaryError =>
  e instanceof CanaryError && (name === undefined || e.name === name);
