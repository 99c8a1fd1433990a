import type {
  Change,
  ChangeResourceRecordSetsCommandInput,
  CreateHostedZoneCommandInput,
  ListResourceRecordSetsCommandInput,
  ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { awsError } from './errors.js';

interface Zone {
  id: string;
  name: string;
  records: ResourceRecordSet[];
}

interface ChangeRecord {
  id: string;
  submittedAt: number;
  /** When the change is INSYNC, drawn when it was submitted (latency model); otherwise submittedAt + insyncDelayMs. */
  insyncAt?: number;
}

export interface AppliedChange {
  at: number;
  changeId: string;
  hostedZoneId: string;
  changes: Change[];
}

const fqdn = (name: string) => {
  const lower = name.toLowerCase().replace(/\\052/g, '*');
  return lower.endsWith('.') ? lower : `${lower}.`;
};
const zoneIdOf = (id: string) => id.replace(/^\/hostedzone\//, '');
const changeIdOf = (id: string) => id.replace(/^\/change\//, '');
/** Route53 lists record sets by name with its labels reversed (com.example.www), then type. */
const sortKey = (r: ResourceRecordSet) => `${fqdn(r.Name!).split('.').reverse().join('.')}\u0000${r.Type}\u0000${r.SetIdentifier ?? ''}`;
const sameSet = (a: ResourceRecordSet, b: ResourceRecordSet) =>
  fqdn(a.Name!) === fqdn(b.Name!) && a.Type === b.Type && (a.SetIdentifier ?? '') === (b.SetIdentifier ?? '');
const clone = <T>(v: T): T => structuredClone(v);

/**
 * Route53 as the canary sees it: hosted zones, record sets with weighted routing, atomic
 * change batches validated as Route53 validates them, and changes that stay PENDING for
 * `insyncDelayMs` before they are INSYNC.
 */
/** Zone, change and health-check ids are unique across every simulated account, as Route53's are (a change id of one account is never found in another). */
let serial = 0;

export class Route53Model {
  insyncDelayMs = 20_000;
  /** With AWS's latencies on (local/sim/latency.ts): each change's own PENDING -> INSYNC time, instead of insyncDelayMs. */
  insyncDelay?: () => number;
  private zones = new Map<string, Zone>();
  private changes = new Map<string, ChangeRecord>();
  readonly applied: AppliedChange[] = [];
  private listeners: ((c: AppliedChange) => void)[] = [];

  onChange(listener: (c: AppliedChange) => void): void {
    this.listeners.push(listener);
  }

  private zone(id: string | undefined): Zone {
    const zone = this.zones.get(zoneIdOf(id ?? ''));
    return zone ?? awsError('NoSuchHostedZone', `No hosted zone found with ID: ${id}`, 404);
  }

  createHostedZone(input: Pick<CreateHostedZoneCommandInput, 'Name'> & { Id?: string }) {
    const id = input.Id ?? `Z${String(++serial).padStart(13, '0')}SIM`;
    const name = fqdn(input.Name!);
    this.zones.set(id, {
      id,
      name,
      records: [
        { Name: name, Type: 'NS', TTL: 172800, ResourceRecords: [{ Value: 'ns-1.awsdns-sim.com.' }, { Value: 'ns-2.awsdns-sim.net.' }] },
        { Name: name, Type: 'SOA', TTL: 900, ResourceRecords: [{ Value: 'ns-1.awsdns-sim.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400' }] },
      ],
    });
    return { HostedZone: { Id: `/hostedzone/${id}`, Name: name, CallerReference: 'simulated' }, ChangeInfo: this.newChange() };
  }

  private healthChecks = new Set<string>();

  createHealthCheck(input: { CallerReference?: string; HealthCheckConfig?: object }) {
    const id = `${String(++serial).padStart(8, '0')}-0000-4000-8000-000000000sim`;
    this.healthChecks.add(id);
    return { HealthCheck: { Id: id, CallerReference: input.CallerReference, HealthCheckConfig: input.HealthCheckConfig, HealthCheckVersion: 1 }, Location: `https://route53.amazonaws.com/2013-04-01/healthcheck/${id}` };
  }

  deleteHostedZone(id: string): void {
    this.zones.delete(zoneIdOf(id));
  }

  hasZone(id: string): boolean {
    return this.zones.has(zoneIdOf(id));
  }

  private newChange() {
    const id = `C${String(++serial).padStart(12, '0')}SIM`;
    const submittedAt = Date.now();
    this.changes.set(id, { id, submittedAt, ...(this.insyncDelay ? { insyncAt: submittedAt + this.insyncDelay() } : {}) });
    return { Id: `/change/${id}`, Status: 'PENDING' as const, SubmittedAt: new Date(submittedAt) };
  }

  listResourceRecordSets(input: ListResourceRecordSetsCommandInput) {
    const zone = this.zone(input.HostedZoneId);
    const max = Math.min(Number(input.MaxItems ?? 300), 300);
    const sorted = [...zone.records].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
    let start = 0;
    if (input.StartRecordName) {
      const probe: ResourceRecordSet = { Name: input.StartRecordName, Type: (input.StartRecordType ?? '') as never, SetIdentifier: input.StartRecordIdentifier };
      const key = input.StartRecordType ? sortKey(probe) : sortKey({ ...probe, Type: '' as never });
      start = sorted.findIndex((r) => sortKey(r) >= key);
      if (start < 0) start = sorted.length;
    }
    const page = sorted.slice(start, start + max);
    const next = sorted[start + max];
    return {
      ResourceRecordSets: clone(page),
      IsTruncated: next !== undefined,
      MaxItems: String(max),
      ...(next ? { NextRecordName: next.Name, NextRecordType: next.Type, NextRecordIdentifier: next.SetIdentifier } : {}),
    };
  }

  changeResourceRecordSets(input: ChangeResourceRecordSetsCommandInput) {
    const zone = this.zone(input.HostedZoneId);
    const changes = input.ChangeBatch?.Changes ?? [];
    if (changes.length === 0) awsError('InvalidInput', 'ChangeBatch must contain at least one change');
    const records = clone(zone.records);
    const touched: ResourceRecordSet[] = [];
    for (const change of changes) {
      const set = { ...clone(change.ResourceRecordSet!), Name: fqdn(change.ResourceRecordSet!.Name!) };
      validateRecordSet(set, zone.name);
      if (touched.some((t) => sameSet(t, set)))
        awsError('InvalidChangeBatch', `The request contains more than one change for ${set.Name} ${set.Type}`);
      touched.push(set);
      const at = records.findIndex((r) => sameSet(r, set));
      if (change.Action === 'CREATE') {
        if (at >= 0) awsError('InvalidChangeBatch', `Tried to create resource record set [name='${set.Name}', type='${set.Type}'] but it already exists`);
        records.push(set);
      } else if (change.Action === 'DELETE') {
        if (at < 0 || JSON.stringify(records[at]) !== JSON.stringify(set))
          awsError('InvalidChangeBatch', `Tried to delete resource record set [name='${set.Name}', type='${set.Type}'] but it was not found`);
        records.splice(at, 1);
      } else if (change.Action === 'UPSERT') {
        if (at >= 0) records[at] = set;
        else records.push(set);
      } else awsError('InvalidInput', `Invalid Action ${change.Action}`);
    }
    for (const set of touched) validateSiblings(records, set);
    zone.records = records;
    const info = this.newChange();
    const applied = { at: Date.now(), changeId: changeIdOf(info.Id), hostedZoneId: zone.id, changes: clone(changes) };
    this.applied.push(applied);
    for (const listener of this.listeners) listener(applied);
    return { ChangeInfo: info };
  }

  getChange(input: { Id?: string }) {
    const change = this.changes.get(changeIdOf(input.Id ?? ''));
    if (!change) return awsError('NoSuchChange', `Could not find resource with ID: ${input.Id}`, 404);
    const insync = Date.now() >= (change.insyncAt ?? change.submittedAt + this.insyncDelayMs);
    return { ChangeInfo: { Id: `/change/${change.id}`, Status: insync ? 'INSYNC' : 'PENDING', SubmittedAt: new Date(change.submittedAt) } };
  }

  /** Weights of the weighted record sets of one name and type, by SetIdentifier. */
  weights(hostedZoneId: string, name: string, type: string): Record<string, number> {
    const zone = this.zone(hostedZoneId);
    const out: Record<string, number> = {};
    for (const r of zone.records)
      if (fqdn(r.Name!) === fqdn(name) && r.Type === type && r.SetIdentifier !== undefined) out[r.SetIdentifier] = r.Weight!;
    return out;
  }

  recordSets(hostedZoneId: string): ResourceRecordSet[] {
    return clone(this.zone(hostedZoneId).records);
  }
}

function validateRecordSet(set: ResourceRecordSet, zoneName: string): void {
  const where = `[name='${set.Name}', type='${set.Type}']`;
  if (!set.Name!.endsWith(zoneName)) awsError('InvalidChangeBatch', `RRSet with DNS name ${set.Name} is not permitted in zone ${zoneName}`);
  if (set.Weight !== undefined) {
    if (!Number.isInteger(set.Weight) || set.Weight < 0 || set.Weight > 255)
      awsError('InvalidInput', `Invalid request: Expected Weight between 0 and 255 ${where}`);
    if (set.SetIdentifier === undefined) awsError('InvalidInput', `Invalid request: Missing field 'SetIdentifier' in weighted ${where}`);
  } else if (set.SetIdentifier !== undefined) {
    awsError('InvalidInput', `Invalid request: SetIdentifier without a routing policy (Weight, Region, ...) ${where}`);
  }
  const alias = set.AliasTarget !== undefined;
  if (alias && (set.TTL !== undefined || set.ResourceRecords?.length))
    awsError('InvalidInput', `Invalid request: an alias record has no TTL or ResourceRecords ${where}`);
  if (!alias && (set.TTL === undefined || !set.ResourceRecords?.length))
    awsError('InvalidInput', `Invalid request: Expected TTL and ResourceRecords ${where}`);
}

/** Rules Route53 applies across record sets of one name and type. */
function validateSiblings(records: ResourceRecordSet[], set: ResourceRecordSet): void {
  const siblings = records.filter((r) => fqdn(r.Name!) === fqdn(set.Name!) && r.Type === set.Type);
  const weighted = siblings.filter((r) => r.Weight !== undefined);
  if (weighted.length > 0 && weighted.length !== siblings.length)
    awsError('InvalidChangeBatch', `RRSet of type ${set.Type} with DNS name ${set.Name} mixes weighted and simple routing`);
  const ttls = new Set(weighted.filter((r) => r.AliasTarget === undefined).map((r) => r.TTL));
  if (ttls.size > 1)
    awsError('InvalidChangeBatch', `RRSet of type ${set.Type} with DNS name ${set.Name} has weighted records with different TTLs; they must share one TTL`);
}
