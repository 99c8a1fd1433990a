import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import { JudgementSchema, parseTaskInput, PlanSchema, StatusSchema } from '../functions/lib/canary-state.js';
import completed from '../events/ecs-deployment-completed.json' with { type: 'json' };
import { executionName, parseDeploymentEvent } from '../functions/lib/deployment-event.js';

const sampleEvent = (file: string): unknown => JSON.parse(readFileSync(new URL(`../events/${file}`, import.meta.url), 'utf8'));

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
  ])('%s parses as %s', (file, eventName) => {
    expect(parseDeploymentEvent(sampleEvent(file))).toMatchObject({ eventName, service: 'shop-web-b' });
  });

  it('the sample Task input (sls invoke local -f judgeGreen) is what Judge green reads', () => {
    const sample = sampleEvent('task-judge-green.json');
    expect(() => parseTaskInput(z.object({ plan: PlanSchema, status: StatusSchema, judgement: z.nullable(JudgementSchema) }), sample, 'Judge green')).not.toThrow();
  });
});
