import { describe, expect, it } from 'vitest';
import { alarmReasons, judgeGreen, steadyReasons, type ServiceStatus } from '../functions/lib/judge.js';

const TD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:2';
const DEP = 'ecs-svc/1111111111111111111';
const service = (patch: Partial<ServiceStatus> = {}, deployment: Partial<ServiceStatus['deployments'][number]> = {}): ServiceStatus => ({
  cluster: 'c',
  service: 's',
  status: 'ACTIVE',
  desiredCount: 3,
  runningCount: 3,
  taskDefinition: TD,
  targetGroups: [],
  deployments: [{ id: DEP, status: 'PRIMARY', rolloutState: 'COMPLETED', taskDefinition: TD, desiredCount: 3, runningCount: 3, failedTasks: 0, ...deployment }],
  ...patch,
});
const expected = { deploymentId: DEP, taskDefinition: TD };

describe('judgeGreen', () => {
  it('healthy when alarms are OK or INSUFFICIENT_DATA and ECS runs every task of the deployment', () => {
    const alarms = [
      { name: 'a', kind: 'metric' as const, state: 'OK' as const, reason: '' },
      { name: 'b', kind: 'composite' as const, state: 'INSUFFICIENT_DATA' as const, reason: '' },
    ];
    expect(judgeGreen({ alarms, service: service(), expected })).toEqual({ healthy: true, reasons: [] });
  });

  it('any alarm in ALARM, metric or composite, is a reason', () => {
    const reasons = alarmReasons([
      { name: 'm', kind: 'metric', state: 'ALARM', reason: 'Threshold Crossed' },
      { name: 'c', kind: 'composite', state: 'ALARM', reason: 'rule TRUE' },
      { name: 'ok', kind: 'metric', state: 'OK', reason: '' },
    ]);
    expect(reasons).toEqual(['metric alarm m is in ALARM: Threshold Crossed', 'composite alarm c is in ALARM: rule TRUE']);
  });

  it.each<[string, ServiceStatus, RegExp]>([
    ['fewer tasks running than desired', service({ runningCount: 1 }), /runs 1 of 3 desired tasks/],
    ['no desired tasks', service({ desiredCount: 0, runningCount: 0 }), /no desired tasks/],
    ['service draining', service({ status: 'DRAINING' }), /is DRAINING/],
    ['a failed deployment', service({}, { rolloutState: 'FAILED', rolloutStateReason: 'circuit breaker' }), /FAILED: circuit breaker/],
    ['another task definition', service({}, { taskDefinition: TD.replace(':2', ':1') }), /runs task definition .*web:1/],
    [
      'a newer (rollback) deployment',
      service({ deployments: [{ id: 'ecs-svc/2', status: 'PRIMARY', rolloutState: 'IN_PROGRESS', taskDefinition: TD, desiredCount: 3, runningCount: 3, failedTasks: 0 }] }),
      /now on deployment ecs-svc\/2/,
    ],
    ['no primary deployment', service({ deployments: [] }), /no primary deployment/],
  ])('unhealthy: %s', (_, s, reason) => {
    const verdict = judgeGreen({ alarms: [], service: s, expected });
    expect(verdict.healthy).toBe(false);
    expect(verdict.reasons.join('\n')).toMatch(reason);
  });
});

describe('steadyReasons (preflight)', () => {
  it('steady: one PRIMARY COMPLETED deployment, every task running', () => expect(steadyReasons(service(), DEP)).toEqual([]));
  it('not steady while rolling out or with an old deployment left', () => {
    expect(steadyReasons(service({}, { rolloutState: 'IN_PROGRESS' }), DEP).join()).toMatch(/IN_PROGRESS, not COMPLETED/);
    const two = service();
    two.deployments.push({ ...two.deployments[0]!, id: 'ecs-svc/0', status: 'ACTIVE' });
    expect(steadyReasons(two, DEP).join()).toMatch(/has 2 deployments/);
    expect(steadyReasons(service({ runningCount: 2 }), DEP).join()).toMatch(/runs 2 of 3/);
    expect(steadyReasons(service(), 'ecs-svc/9').join()).toMatch(/primary deployment of c\/s is ecs-svc\/1111111111111111111, not ecs-svc\/9/);
  });
});

describe('target-group health', () => {
  const tg = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web-b/0123456789abcdef';
  it('every registered target must be healthy; the others are named with their reason', () => {
    const v = judgeGreen({
      alarms: [],
      service: service(),
      expected: { deploymentId: DEP, taskDefinition: TD },
      targets: [
        { targetGroupArn: tg, target: '10.0.1.5:8080', state: 'healthy', reason: '' },
        { targetGroupArn: tg, target: '10.0.1.6:8080', state: 'unhealthy', reason: 'Target.ResponseCodeMismatch: Health checks failed with these codes: [502]' },
        { targetGroupArn: tg, target: '10.0.1.7:8080', state: 'initial', reason: 'Elb.RegistrationInProgress' },
      ],
    });
    expect(v.healthy).toBe(false);
    expect(v.reasons).toEqual([
      'target 10.0.1.6:8080 of targetgroup/shop-web-b/0123456789abcdef is unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])',
      'target 10.0.1.7:8080 of targetgroup/shop-web-b/0123456789abcdef is initial (Elb.RegistrationInProgress)',
    ]);
  });
});
