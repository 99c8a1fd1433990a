import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const secrets = new SecretsManagerClient({});

/** The current string value of a Secrets Manager secret (name or ARN). */
export async function secretValue(secretId: string): Promise<string> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (out.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
  return out.SecretString;
}
