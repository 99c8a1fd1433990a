import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';

export const dynamodb = new DynamoDBClient({});

export type Item = Record<string, AttributeValue>;

const isConditionFailure = (e: unknown) => (e as Error).name === 'ConditionalCheckFailedException';

/** PutItem under a condition; false when the condition did not hold. */
export async function putIf(table: string, item: Item, condition: string, names: Record<string, string>, values: Item): Promise<boolean> {
  try {
    await dynamodb.send(
      new PutItemCommand({ TableName: table, Item: item, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

/** UpdateItem (SET ...) under a condition: the item as it is now, or undefined when the condition did not hold. */
export async function updateIf(table: string, key: Item, update: string, condition: string, names: Record<string, string>, values: Item): Promise<Item | undefined> {
  try {
    const out = await dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key,
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes ?? {};
  } catch (e) {
    if (isConditionFailure(e)) return undefined;
    throw e;
  }
}

/** DeleteItem under a condition; false when the condition did not hold. */
export async function deleteIf(table: string, key: Item, condition: string, names: Record<string, string>, values: Item): Promise<boolean> {
  try {
    await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: key, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values }));
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

/** Every item of a (small) table, page by page. */
export async function scanAll(table: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

export async function getItem(table: string, key: Item): Promise<Item | undefined> {
  const out = await dynamodb.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
  return out.Item;
}
