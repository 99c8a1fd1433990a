import type { CloudWatchModel } from './cloudwatch.js';

/**
 * CloudWatch Logs, as far as the canary needs it: what each function prints goes to its log
 * group (`/aws/lambda/<function name>`, as Lambda sends stdout there), and an embedded metric
 * format line becomes datapoints of its metrics, as CloudWatch Logs extracts them: one per
 * dimension set of each directive, at the line's `_aws.Timestamp`.
 */
export interface LogEvent {
  at: number;
  message: string;
}

/** An EMF line's directive, as the specification writes it. */
interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit?: string }[];
}

export class LogsModel {
  readonly groups = new Map<string, LogEvent[]>();

  constructor(private cloudwatch: CloudWatchModel) {}

  /** A function's output: one event per line, EMF lines turned into metrics. */
  write(group: string, text: string): void {
    let events = this.groups.get(group);
    if (!events) this.groups.set(group, (events = []));
    for (const message of text.split('\n').filter((l) => l.trim())) {
      events.push({ at: Date.now(), message });
      this.extract(message);
    }
  }

  /** The events of a group (empty when it has none). */
  events(group: string): LogEvent[] {
    return this.groups.get(group) ?? [];
  }

  /** The EMF lines of a group (or of every group), parsed. */
  emf(group?: string): Record<string, any>[] {
    const groups = group ? [this.events(group)] : [...this.groups.values()];
    return groups.flat().flatMap((e) => {
      const line = parse(e.message);
      return line && Array.isArray(line._aws?.CloudWatchMetrics) ? [line] : [];
    });
  }

  private extract(message: string): void {
    const line = parse(message);
    const directives: EmfDirective[] | undefined = line?._aws?.CloudWatchMetrics;
    if (!line || !Array.isArray(directives)) return;
    const at = Number(line._aws.Timestamp ?? Date.now());
    for (const d of directives)
      for (const set of d.Dimensions)
        for (const m of d.Metrics) {
          const value = line[m.Name];
          if (typeof value !== 'number' || set.some((k) => typeof line[k] !== 'string')) continue;
          this.cloudwatch.record(
            { namespace: d.Namespace, name: m.Name, dimensions: set.map((k) => ({ Name: k, Value: line[k] as string })) },
            at,
            { sampleCount: 1, sum: value, min: value, max: value, values: new Map([[value, 1]]) },
            m.Unit,
          );
        }
  }
}

function parse(message: string): Record<string, any> | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    return JSON.parse(message);
  } catch {
    return undefined;
  }
}
