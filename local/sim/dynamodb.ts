import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { awsError } from './errors.js';

type Item = Record<string, AttributeValue>;

interface Table {
  name: string;
  hashKey: string;
  items: Map<string, Item>;
}

/**
 * DynamoDB tables with a hash key, conditional PutItem / UpdateItem (SET) / DeleteItem, and
 * consistent GetItem: what the pair lock needs. Condition expressions support
 * attribute_exists / attribute_not_exists, comparisons (= <> < <= > >=), AND, OR, NOT and
 * parentheses, with #names and :values.
 */
export class DynamoDbModel {
  private tables = new Map<string, Table>();

  createTable(input: { TableName?: string; KeySchema?: { AttributeName?: string; KeyType?: string }[] }) {
    const hashKey = input.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
    if (!input.TableName || !hashKey) return awsError('ValidationException', 'TableName and a HASH key are required');
    if (this.tables.has(input.TableName)) return awsError('ResourceInUseException', `Table already exists: ${input.TableName}`);
    this.tables.set(input.TableName, { name: input.TableName, hashKey, items: new Map() });
    return { TableDescription: { TableName: input.TableName, TableStatus: 'ACTIVE' } };
  }

  private table(name: string | undefined): Table {
    return this.tables.get(name ?? '') ?? awsError('ResourceNotFoundException', 'Requested resource not found');
  }

  private keyOf(table: Table, item: Item | undefined): string {
    const value = item?.[table.hashKey];
    if (!value) return awsError('ValidationException', `One of the required keys was not given a value: ${table.hashKey}`);
    return JSON.stringify(value);
  }

  private check(existing: Item | undefined, input: { ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item }) {
    if (!input.ConditionExpression) return;
    if (!evaluateCondition(input.ConditionExpression, existing ?? {}, input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {}))
      awsError('ConditionalCheckFailedException', 'The conditional request failed');
  }

  putItem(input: { TableName?: string; Item?: Item; ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item }) {
    const table = this.table(input.TableName);
    const k = this.keyOf(table, input.Item);
    this.check(table.items.get(k), input);
    table.items.set(k, structuredClone(input.Item!));
    return {};
  }

  getItem(input: { TableName?: string; Key?: Item }) {
    const table = this.table(input.TableName);
    const item = table.items.get(this.keyOf(table, input.Key));
    return item ? { Item: structuredClone(item) } : {};
  }

  deleteItem(input: { TableName?: string; Key?: Item; ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item }) {
    const table = this.table(input.TableName);
    const k = this.keyOf(table, input.Key);
    this.check(table.items.get(k), input);
    table.items.delete(k);
    return {};
  }

  updateItem(input: {
    TableName?: string;
    Key?: Item;
    UpdateExpression?: string;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
    ReturnValues?: string;
  }) {
    const table = this.table(input.TableName);
    const k = this.keyOf(table, input.Key);
    const existing = table.items.get(k);
    this.check(existing, input);
    const m = /^\s*SET\s+(.+)$/i.exec(input.UpdateExpression ?? '');
    if (!m) return awsError('ValidationException', `the simulator supports SET updates only: ${input.UpdateExpression}`);
    const item = structuredClone(existing ?? input.Key!);
    for (const assignment of m[1]!.split(',')) {
      const [path, value] = assignment.split('=').map((s) => s.trim());
      const name = input.ExpressionAttributeNames?.[path!] ?? path!;
      const v = input.ExpressionAttributeValues?.[value!];
      if (!v) return awsError('ValidationException', `unknown value ${value}`);
      item[name] = v;
    }
    table.items.set(k, item);
    if (input.ReturnValues && input.ReturnValues !== 'NONE' && input.ReturnValues !== 'ALL_NEW')
      return awsError('ValidationException', `the simulator supports ReturnValues NONE and ALL_NEW only: ${input.ReturnValues}`);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(item) } : {};
  }

  /** Scan: every item, in pages of at most `Limit` (1 MB pages are never reached by a claims table). */
  scan(input: { TableName?: string; Limit?: number; ExclusiveStartKey?: Item }) {
    const table = this.table(input.TableName);
    const keys = [...table.items.keys()].sort();
    const from = input.ExclusiveStartKey ? keys.indexOf(this.keyOf(table, input.ExclusiveStartKey)) + 1 : 0;
    const page = keys.slice(from, from + (input.Limit ?? keys.length));
    const last = from + page.length < keys.length ? table.items.get(page.at(-1)!) : undefined;
    return {
      Items: page.map((k) => structuredClone(table.items.get(k)!)),
      Count: page.length,
      ScannedCount: page.length,
      ...(last ? { LastEvaluatedKey: { [table.hashKey]: structuredClone(last[table.hashKey]!) } } : {}),
    };
  }

  items(tableName: string): Item[] {
    return [...this.table(tableName).items.values()].map((i) => structuredClone(i));
  }
}

const scalar = (v: AttributeValue | undefined): string | number | boolean | undefined =>
  v === undefined ? undefined : v.S !== undefined ? v.S : v.N !== undefined ? Number(v.N) : v.BOOL !== undefined ? v.BOOL : JSON.stringify(v);

export function evaluateCondition(expression: string, item: Item, names: Record<string, string>, values: Item): boolean {
  const tokens = expression.match(/<>|<=|>=|[=<>(),]|[#:]?[A-Za-z_][\w.]*/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const upper = () => tokens[i]?.toUpperCase();
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (expected && t !== expected) throw new Error(`malformed condition ${expression}: expected ${expected}, got ${t}`);
    return t!;
  };
  const attribute = (t: string) => (t.startsWith('#') ? (names[t] ?? awsError('ValidationException', `unknown name ${t}`)) : t);
  const operand = () => {
    const t = take();
    return t.startsWith(':') ? scalar(values[t] ?? awsError('ValidationException', `unknown value ${t}`)) : scalar(item[attribute(t)]);
  };
  const primary = (): boolean => {
    if (upper() === 'NOT') return take(), !primary();
    if (peek() === '(') {
      take('(');
      const v = or();
      take(')');
      return v;
    }
    if (upper() === 'ATTRIBUTE_EXISTS' || upper() === 'ATTRIBUTE_NOT_EXISTS') {
      const exists = take().toUpperCase() === 'ATTRIBUTE_EXISTS';
      take('(');
      const present = item[attribute(take())] !== undefined;
      take(')');
      return exists === present;
    }
    const left = operand();
    const op = take();
    const right = operand();
    if (left === undefined || right === undefined) return op === '<>' && left !== right;
    switch (op) {
      case '=': return left === right;
      case '<>': return left !== right;
      case '<': return left < right;
      case '<=': return left <= right;
      case '>': return left > right;
      case '>=': return left >= right;
      default: throw new Error(`malformed condition ${expression}: operator ${op}`);
    }
  };
  const and = (): boolean => {
    let v = primary();
    while (upper() === 'AND') (take(), (v = primary() && v));
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (upper() === 'OR') (take(), (v = and() || v));
    return v;
  };
  const result = or();
  if (i !== tokens.length) throw new Error(`malformed condition ${expression}: trailing ${tokens[i]}`);
  return result;
}
