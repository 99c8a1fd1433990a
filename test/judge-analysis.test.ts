/**
 * Green against blue, end to end: the real state machine and handlers on the simulated
 * account, whose clients send traffic through the weighted records to each side's own ALB and
 * whose CloudWatch publishes the ALB metrics late, as AWS does.
 */
import { describe, expect, it } from 'vitest';
import { targetGroupArn } from '../local/local-canary.js';
import { examplePair, greenSequence, weightsOf, world } from './helpers.js';

const judgements = (result: { events: { type: string; state?: { name?: string; output?: unknown } }[] }) =>
  result.events.filter((e) => e.type === 'StateExited' && e.state?.name === 'Judge green').map((e) => (e.state!.output as any).judgement);

describe('green against blue', () => {
  it('a healthy green is judged on its own traffic and promoted; every verdict carries its numbers', async () => {
    const w = world();
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    const judged = judgements(result!);
    const passed = judged.filter((j) => j.bakeComplete);
    expect(passed.map((j) => j.step)).toEqual([1, 2, 3, 4]);
    for (const j of passed) {
      expect(j.verdict).toBe('HEALTHY');
      expect(j.analysis.outcome).toBe('HEALTHY');
      expect(j.analysis.step.greenRequests).toBeGreaterThanOrEqual(300);
      expect(j.analysis.step.sharePercent).toBeGreaterThanOrEqual(j.analysis.step.greenPercent / 2);
      expect(j.analysis.thresholds).toMatchObject({ alpha: 0.01, eValue: 100, minRequests: 300 });
    }
    // while minutes settle the verdict is INCONCLUSIVE and the bake goes on: never a pass on no data
    expect(judged.some((j) => j.verdict === 'INCONCLUSIVE' && /settled minute/.test(j.reasons.join(' ')))).toBe(true);
    const completed = w.sim.events.filter((e) => e.detailType === 'StepCompleted');
    expect((completed[0]!.detail as any).analysis.green.requests).toBeGreaterThan(0);
    // one GetMetricData call per poll, both sides in it
    const polls = judged.length;
    expect(w.sim.count('cloudwatch', 'GetMetricData')).toBeLessThanOrEqual(polls);
    expect(w.sim.count('cloudwatch', 'GetMetricData')).toBeGreaterThan(polls / 2);
  });

  it('green failing 10 % of its requests (blue 0.1 %) rolls back at step 1, with both sides\' numbers in the reason', async () => {
    const w = world();
    w.sim.traffic.setBehaviour(targetGroupArn(w.green.service), { errorRate: 0.1 });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    expect(greenSequence(w.sim, w.pair)).toEqual([10, 0]);
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 100, green: 0 });
    const rolledBack = w.sim.events.find((e) => e.detailType === 'RolledBack')!.detail as any;
    expect(rolledBack.reason).toMatch(/green's 5xx \d+ of [\d,]+ \(\d+\.\d+ %\) vs blue's \d+ of [\d,]+ \(0\.\d+ %\): [\d.]+x, e-value \S+ >= 100/);
    expect(rolledBack.figures).toMatch(/^green \d+\/[\d,]+ \(\d+\.\d+ %\)/);
  });

  it('with too little traffic the canary is never promoted: GreenInconclusive, rolled back, and the reason names what was missing', async () => {
    const w = world({ pair: { analysis: { maxBakeSeconds: 600 } } });
    w.sim.traffic.setRate(w.pair.hostedZoneId, w.pair.recordName, w.pair.recordType, 0.2);
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    expect(weightsOf(w.sim, w.pair)).toEqual({ blue: 100, green: 0 });
    const rolledBack = w.sim.events.find((e) => e.detailType === 'RolledBack')!.detail as any;
    expect(rolledBack.reason).toMatch(/GreenInconclusive: no verdict on green after \d+ s at 10 % \(maxBakeSeconds 600\): .*green served \d+ requests in \d+ s \(needs 300\)/);
  });

  it('onInconclusive promote goes on without data', async () => {
    const quiet = world({ pair: { analysis: { maxBakeSeconds: 300, onInconclusive: 'promote' } } });
    quiet.sim.traffic.setRate(quiet.pair.hostedZoneId, quiet.pair.recordName, quiet.pair.recordType, 0.2);
    expect((await quiet.runCanary())[0]!.status).toBe('SUCCEEDED');
  });

  it('observe mode acts on nothing and says what it would have done', async () => {
    const w = world({ pair: { analysis: { mode: 'observe' } } });
    w.sim.traffic.setBehaviour(targetGroupArn(w.green.service), { errorRate: 0.1 });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    const would = w.sim.events.filter((e) => e.detailType === 'WouldRollBack');
    expect(would).toHaveLength(1);
    expect((would[0]!.detail as any).reason).toMatch(/^observe mode: green would have been rolled back at step \d \(green \d+ %\): green's 5xx/);
    expect(judgements(result!).at(-1).analysis.wouldRollBack).toMatchObject({ reason: expect.stringMatching(/^green's 5xx/) });
    // history says what observe mode would have done; --verbose adds the last verdict's numbers
    const history = await w.operator('history', 'shop-web', '--json');
    expect(history.json.canaries[0]).toMatchObject({ outcome: 'PROMOTED', wouldRollBack: expect.stringMatching(/^would have rolled back at step \d \(green \d+ %\): green's 5xx/) });
    const text = await w.operator('history', 'shop-web', '--verbose');
    expect(text.out).toMatch(/PROMOTED .*\n {4}would have rolled back at step \d.*\n {4}green \d+\/[\d,]+ \(\d+\.\d+ %\)/);
    expect((await w.operator('history', 'shop-web')).out).not.toMatch(/\n {4}green \d+\//);
  });

  /** The example pair, each service with an alarm of its own (in OK). */
  const withServiceAlarms = () => {
    const [a, b] = examplePair().services;
    const w = world({ pair: { services: [{ ...a, alarms: ['shop-web-a-errors'] }, { ...b, alarms: ['shop-web-b-errors'] }] } });
    for (const name of ['shop-web-a-errors', 'shop-web-b-errors']) (w.sim.cloudwatch.putMetricAlarm({ AlarmName: name }), w.sim.cloudwatch.setState(name, 'OK'));
    return w;
  };
  const alarmEvent = (alarmName: string) => ({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName, state: { value: 'ALARM' } } });

  it("a service's own alarm while it is blue never stops the canary: the signal says so, status notes it", async () => {
    const w = withServiceAlarms();
    let signal: Promise<unknown> | undefined;
    w.whenGreenReaches(25, () => {
      w.sim.cloudwatch.setState('shop-web-a-errors', 'ALARM', 'blue erring');
      signal = w.lambda('signal')(alarmEvent('shop-web-a-errors'));
    }, 30_000);
    const [result] = await w.runCanary();
    expect(result!.status).toBe('SUCCEEDED');
    expect(await signal).toMatchObject({ pairs: [{ pair: 'shop-web', outcome: 'NOT_GREEN', detail: expect.stringMatching(/^alarm shop-web-a-errors belongs to shop\/shop-web-a, which is not the green side of the running canary \(it is blue\)/) }] });
    expect(judgements(result!).some((j) => (j.notes ?? []).some((n: string) => /alarm shop-web-a-errors of blue \(shop-web-a\) is in ALARM: it is blue's/.test(n)))).toBe(true);
  });

  it("a service's own alarm stops the canary while that service is green", async () => {
    const g = withServiceAlarms();
    g.whenGreenReaches(25, () => g.sim.cloudwatch.setState('shop-web-b-errors', 'ALARM', 'green erring'), 30_000);
    const [rolled] = await g.runCanary();
    expect(rolled!.status).toBe('FAILED');
    expect((g.sim.events.find((e) => e.detailType === 'RolledBack')!.detail as any).reason).toMatch(/alarm shop-web-b-errors went to ALARM.*\(an alarm of shop-web-b\)/);
  });

  it('a pair that asks for the comparison when a side has no ALB is refused before any traffic moves (AnalysisUnavailable)', async () => {
    const w = world({ pair: { analysis: { mode: 'enforce' } } });
    w.sim.elbv2.addTargetGroup({ arn: targetGroupArn(w.green.service), loadBalancerArns: [] });
    const [result] = await w.runCanary();
    expect(result!.status).toBe('FAILED');
    expect(result!.error).toBe('AnalysisUnavailable');
    expect(result!.cause).toMatch(/^pair shop-web asks for analysis, but .*shop-web-b \(targetgroup\/shop-web-b\/\w+ on no load balancer\) do not both have ALB target groups/);
    expect(w.route53Writes()).toBe(0);
    expect(w.claim()).toBeUndefined();
  });

  it('by default a pair whose side has no ALB target group runs on alarms and health alone, reading no metrics', async () => {
    const quiet = world();
    quiet.sim.elbv2.addTargetGroup({ arn: targetGroupArn(quiet.green.service), loadBalancerArns: [] });
    const [ran] = await quiet.runCanary();
    expect(ran!.status).toBe('SUCCEEDED');
    expect(judgements(ran!).every((j) => j.analysis === undefined)).toBe(true);
    expect(quiet.sim.count('cloudwatch', 'GetMetricData')).toBe(0);
  });
});
