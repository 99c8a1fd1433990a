import { awsError } from './errors.js';
import type { EcsModel } from './ecs.js';

/**
 * Target groups as the canary sees them: the targets are the running tasks of the ECS service
 * registered with the group, healthy unless a test says otherwise (`setUnhealthy`).
 */
export class Elbv2Model {
  private unhealthy = new Map<string, { count: number; reason: string }>();

  constructor(private ecs: EcsModel) {}

  /** The first `count` targets of the group fail their health checks (0: all healthy again). */
  setUnhealthy(targetGroupArn: string, count: number, reason = 'Target.ResponseCodeMismatch: Health checks failed with these codes: [502]'): void {
    if (count > 0) this.unhealthy.set(targetGroupArn, { count, reason });
    else this.unhealthy.delete(targetGroupArn);
  }

  describeTargetHealth(input: { TargetGroupArn?: string }) {
    const arn = input.TargetGroupArn ?? '';
    const service = this.ecs.serviceWithTargetGroup(arn);
    if (!service) return awsError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    const bad = this.unhealthy.get(arn);
    const index = service.serviceName.length % 200;
    return {
      TargetHealthDescriptions: Array.from({ length: service.runningCount }, (_, k) => {
        const failing = bad !== undefined && k < bad.count;
        const at = failing ? bad.reason.indexOf(': ') : -1;
        const [reason, description] = failing ? (at < 0 ? [bad.reason, undefined] : [bad.reason.slice(0, at), bad.reason.slice(at + 2)]) : [];
        return {
          Target: { Id: `10.0.${index}.${10 + k}`, Port: 8080 },
          HealthCheckPort: '8080',
          TargetHealth: failing ? { State: 'unhealthy', Reason: reason, Description: description } : { State: 'healthy' },
        };
      }),
    };
  }
}

export type FunctionHandler = (event: unknown) => Promise<unknown> | unknown;

/** Lambda, as far as the canary invokes it: the pairs' hook functions, scripted by tests. */
export class LambdaModel {
  private functions = new Map<string, FunctionHandler>();
  readonly invocations: { functionArn: string; payload: unknown }[] = [];

  define(functionArn: string, handler: FunctionHandler): void {
    this.functions.set(functionArn, handler);
  }

  async invoke(input: { FunctionName?: string; Payload?: Uint8Array }) {
    const arn = input.FunctionName ?? '';
    const handler = this.functions.get(arn);
    if (!handler) return awsError('ResourceNotFoundException', `Function not found: ${arn}`, 404);
    const payload = input.Payload ? JSON.parse(new TextDecoder().decode(input.Payload)) : null;
    this.invocations.push({ functionArn: arn, payload });
    const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v ?? null));
    try {
      return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: encode(await handler(payload)) };
    } catch (e) {
      const error = e as Error;
      return { StatusCode: 200, ExecutedVersion: '$LATEST', FunctionError: 'Unhandled', Payload: encode({ errorType: error.name, errorMessage: error.message }) };
    }
  }
}

/** Secrets Manager: named secrets whose ARN ends in a random six-character suffix, as AWS makes them. */
export class SecretsModel {
  private secrets = new Map<string, { arn: string; value: string }>();

  constructor(
    private account: string,
    private region: string,
  ) {}

  put(name: string, value: string): string {
    const arn = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${Buffer.from(name).toString('base64').replace(/[^A-Za-z]/g, '').padEnd(6, 'x').slice(0, 6)}`;
    this.secrets.set(name, { arn, value });
    return arn;
  }

  /** The ARN of a secret given by name or ARN; undefined if there is none. */
  arnOf(id: string): string | undefined {
    return [...this.secrets.entries()].find(([name, s]) => name === id || s.arn === id)?.[1].arn;
  }

  getSecretValue(input: { SecretId?: string }) {
    const entry = [...this.secrets.entries()].find(([name, s]) => name === input.SecretId || s.arn === input.SecretId);
    if (!entry) return awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return { ARN: entry[1].arn, Name: entry[0], SecretString: entry[1].value, VersionId: 'simulated', VersionStages: ['AWSCURRENT'] };
  }
}

export interface HttpAnswer {
  status: number;
  body?: string;
}

/**
 * The services' own HTTP endpoints (green's load balancer, say), whose answers tests script.
 * While the account is installed, `fetch` to a host it knows is answered here, with no network.
 */
export class HttpModel {
  private endpoints = new Map<string, (request: { url: string; headers: Record<string, string> }) => HttpAnswer>();
  readonly requests: { at: number; url: string; headers: Record<string, string> }[] = [];

  /** Answers GETs of `url` (exactly) with `answer`, a fixed answer or a function of the request. */
  serve(url: string, answer: HttpAnswer | ((request: { url: string; headers: Record<string, string> }) => HttpAnswer)): void {
    this.endpoints.set(url, typeof answer === 'function' ? answer : () => answer);
  }

  knows(url: string): boolean {
    const host = new URL(url).host;
    return [...this.endpoints.keys()].some((u) => new URL(u).host === host);
  }

  fetch(url: string, headers: Record<string, string>): Response {
    this.requests.push({ at: Date.now(), url, headers });
    const endpoint = this.endpoints.get(url);
    const { status, body } = endpoint ? endpoint({ url, headers }) : { status: 404, body: 'Not Found' };
    return new Response(body ?? '', { status });
  }
}
