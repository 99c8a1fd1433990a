import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

const clients = new Map<string, CloudFormationClient>();
const cloudformationIn = (region: string) => clients.get(region) ?? clients.set(region, new CloudFormationClient({ region })).get(region)!;

/** The status of the stack named `name` in `region` (the caller's account), or undefined when it has none of that name. */
export async function stackStatus(name: string, region: string): Promise<string | undefined> {
  try {
    const out = await cloudformationIn(region).send(new DescribeStacksCommand({ StackName: name }));
    return out.Stacks?.[0]?.StackStatus;
  } catch (e) {
    // DescribeStacks answers a name it does not know with a ValidationError: "Stack with id <name> does not exist".
    if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return undefined;
    throw e;
  }
}
