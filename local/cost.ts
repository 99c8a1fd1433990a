import { SWEEP_RATE_MINUTES } from '../functions/lib/stack.js';
import type { ConcurrencyRun } from './concurrency.js';

/**
 * List prices (US East, N. Virginia, November 2026). Step Functions: the Step Functions
 * pricing page. Lambda arm64, DynamoDB on-demand and EventBridge custom events: as published
 * on AWS's pricing pages and quoted by third parties (check before relying on them). No price
 * is published for Route 53 API requests, ECS DescribeServices or CloudWatch DescribeAlarms
 * (CloudWatch prices GetMetricData per metric requested, PutMetricData and a few others, not
 * DescribeAlarms).
 */
export const PRICES = {
  source: 'us-east-1 list prices, Nov 2026',
  stateTransition: 0.025 / 1_000,
  lambdaRequest: 0.2 / 1_000_000,
  lambdaArmGbSecond: 0.0000133334,
  dynamoWrite: 0.625 / 1_000_000,
  dynamoRead: 0.125 / 1_000_000,
  putEvent: 1 / 1_000_000,
  /** CloudWatch GetMetricData: per metric requested, no free tier (CloudWatch pricing page). */
  metricRequested: 0.01 / 1_000,
};

/**
 * Virtual time has no network: a handler that only calls AWS takes 0 ms in it. Each call is
 * billed as if it took this long (an in-Region SDK call usually takes 10-50 ms).
 */
export const CALL_MS = 50;

/** The sweep belongs to the account, not to a canary: its cost is counted per month. */
const PER_ACCOUNT = new Set(['sweep']);

export interface CostItem {
  what: string;
  quantity: number;
  usd: number;
}

export function costOf(run: ConcurrencyRun) {
  const result = run.results[0]!;
  const invocations = run.invocations.filter((i) => !PER_ACCOUNT.has(i.fn));
  const memory = (fn: string) => run.invocations.find((i) => i.fn === fn)!.memoryMb / 1024;
  const callsOf = (fn: string) => Object.values(run.calls[fn] ?? {}).reduce((a, b) => a + b, 0);
  const gbSecondsOf = (fn: string) =>
    run.invocations.filter((i) => i.fn === fn).reduce((gb, i) => gb + (memory(fn) * Math.max(1, i.ms)) / 1000, 0) + (memory(fn) * callsOf(fn) * CALL_MS) / 1000;
  const functions = [...new Set(invocations.map((i) => i.fn))];
  const lambdaGbSeconds = functions.reduce((gb, fn) => gb + gbSecondsOf(fn), 0);
  const total = (command: string) => functions.reduce((n, fn) => n + (run.calls[fn]?.[command] ?? 0), 0);
  const writes = total('dynamodb:PutItem') + total('dynamodb:UpdateItem') + total('dynamodb:DeleteItem');
  const reads = total('dynamodb:GetItem');
  const free = [
    'route53:ListResourceRecordSets',
    'route53:ChangeResourceRecordSets',
    'route53:GetChange',
    'ecs:DescribeServices',
    'ecs:UpdateService',
    'cloudwatch:DescribeAlarms',
    'elbv2:DescribeTargetHealth',
    'sfn:StartExecution',
    'sfn:DescribeExecution',
  ];
  const items: CostItem[] = [
    { what: 'Step Functions state transitions (retries included)', quantity: result.transitions, usd: result.transitions * PRICES.stateTransition },
    { what: `Lambda GB-seconds (arm64; waits in virtual time + ${CALL_MS} ms per AWS call)`, quantity: lambdaGbSeconds, usd: lambdaGbSeconds * PRICES.lambdaArmGbSecond },
    { what: 'Lambda invocations', quantity: invocations.length, usd: invocations.length * PRICES.lambdaRequest },
    { what: 'DynamoDB writes (claims; on-demand, 1 WRU each)', quantity: writes, usd: writes * PRICES.dynamoWrite },
    { what: 'DynamoDB strongly consistent reads (1 RRU each)', quantity: reads, usd: reads * PRICES.dynamoRead },
    { what: "CloudWatch GetMetricData metrics requested (green against blue)", quantity: run.metricsRequested, usd: run.metricsRequested * PRICES.metricRequested },
    { what: 'EventBridge PutEvents (notifications)', quantity: total('eventbridge:PutEvents'), usd: total('eventbridge:PutEvents') * PRICES.putEvent },
    { what: `API calls with no published price (${free.map((c) => c.split(':')[1]).join(', ')})`, quantity: free.reduce((n, c) => n + total(c), 0), usd: 0 },
  ];
  const totalUsd = items.reduce((usd, i) => usd + i.usd, 0);
  const biggest = [...items].sort((a, b) => b.usd - a.usd)[0]!;

  // The INSYNC wait as a poll loop in the state machine: a Task (aws-sdk:route53:getChange),
  // a Choice and a Wait for each poll, in place of one Task state per step and its Lambda.
  const polls = run.calls.waitForChange?.['route53:GetChange'] ?? 0;
  const waits = run.invocations.filter((i) => i.fn === 'waitForChange').length;
  const integrationTransitions = 3 * polls - waits;
  const lambdaUsd = gbSecondsOf('waitForChange') * PRICES.lambdaArmGbSecond + waits * PRICES.lambdaRequest;

  const sweepsPerMonth = (30 * 24 * 60) / SWEEP_RATE_MINUTES;
  const sweepGbSeconds = (memory('sweep') * (1 + 2 * CALL_MS)) / 1000; // an idle sweep: one Scan
  return {
    items,
    totalUsd: Math.round(totalUsd * 1e6) / 1e6,
    biggest: `${biggest.what} (${Math.round((biggest.usd / totalUsd) * 100)} %)`,
    transitions: result.transitions,
    lambdaGbSeconds: Math.round(lambdaGbSeconds * 100) / 100,
    integration: { transitions: integrationTransitions, usd: integrationTransitions * PRICES.stateTransition, lambdaUsd },
    sweep: { everyMinutes: SWEEP_RATE_MINUTES, usdPerMonth: sweepsPerMonth * (PRICES.lambdaRequest + sweepGbSeconds * PRICES.lambdaArmGbSecond + PRICES.dynamoRead) },
  };
}
