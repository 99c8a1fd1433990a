import { describe, expect, it } from 'vitest';
import completed from '../events/ecs-deployment-completed.json' with { type: 'json' };
import { executionName, parseDeploymentEvent } from '../functions/lib/deployment-event.js';

describe('parseDeploymentEvent', () => {
  it('reads the sample event', () => {
    expect(parseDeploymentEvent(completed)).toMatchObject({
      eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
      cluster: 'shop',
      service: 'shop-web-b',
      deploymentId: 'ecs-svc/4000000000000000003',
      account: '123456789012',
      region: 'eu-west-1',
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'hello', /\(event\)/],
    ['another source', { ...completed, source: 'aws.ec2' }, /source/],
    ['another detail-type', { ...completed, 'detail-type': 'ECS Task State Change' }, /detail-type/],
    ['no deployment id', { ...completed, detail: { ...completed.detail, deploymentId: undefined } }, /detail.deploymentId/],
    ['a resource that is not a service', { ...completed, resources: ['arn:aws:ecs:eu-west-1:123456789012:cluster/shop'] }, /resources.0: must be an ECS service ARN/],
    ['two resources', { ...completed, resources: [completed.resources[0], completed.resources[0]] }, /resources/],
    ['an unknown event name', { ...completed, detail: { ...completed.detail, eventName: 'SERVICE_STEADY_STATE' } }, /detail.eventName/],
  ])('MalformedEvent for %s', (_, event, field) => {
    expect(() => parseDeploymentEvent(event)).toThrow(expect.objectContaining({ name: 'MalformedEvent', message: expect.stringMatching(field) }));
  });
});

describe('executionName', () => {
  it('names the pair and the deployment, within 80 allowed characters', () => {
    expect(executionName('shop-web', 'ecs-svc/4000000000000000003')).toBe('shop-web--ecs-svc-4000000000000000003');
    const long = executionName('a'.repeat(40), `ecs-svc/${'9'.repeat(60)}`);
    expect(long).toHaveLength(80);
    expect(long).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('the sample events', () => {
  it.each([
    ['ecs-deployment-in-progress.json', 'SERVICE_DEPLOYMENT_IN_PROGRESS'],
    ['ecs-deployment-failed.json', 'SERVICE_DEPLOYMENT_FAILED'],
  ])('%s parses as %s', async (file, eventName) => {
    const { default: sample } = await import(`../events/${file}`, { with: { type: 'json' } });
    expect(parseDeploymentEvent(sample)).toMatchObject({ eventName, service: 'shop-web-b' });
  });
});
