import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { ssmClient } from './clients.ts';

let cached: string | undefined;

/**
 * The HMAC secret for unit links. Locally it comes from the environment (the runtime keeps it in the data
 * folder); on AWS from an SSM SecureString, read once per container.
 */
export async function linkSecret(): Promise<string> {
  if (cached) return cached;
  const fromEnv = process.env.SAFEDUTY_LINK_SECRET;
  if (fromEnv) {
    cached = fromEnv;
    return cached;
  }
  const name = process.env.LINK_SECRET_PARAMETER;
  if (!name) throw new Error('neither SAFEDUTY_LINK_SECRET nor LINK_SECRET_PARAMETER is set');
  const out = await ssmClient().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = out.Parameter?.Value;
  if (!value || value.length < 32)
    throw new Error('link secret parameter is missing or shorter than 32 characters');
  cached = value;
  return cached;
}

export function resetSecretCache(): void {
  cached = undefined;
}
