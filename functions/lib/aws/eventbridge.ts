import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

export const eventbridge = new EventBridgeClient({});

/** Puts one event on the default bus; throws if EventBridge did not accept it. */
export async function putEvent(source: string, detailType: string, detail: object): Promise<string> {
  const out = await eventbridge.send(
    new PutEventsCommand({ Entries: [{ Source: source, DetailType: detailType, Detail: JSON.stringify(detail) }] }),
  );
  const entry = out.Entries?.[0];
  if ((out.FailedEntryCount ?? 0) > 0 || !entry?.EventId)
    throw new Error(`PutEvents rejected ${detailType}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
  return entry.EventId;
}
