import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { parseLinkKeys, type LinkKeys } from '../core/links.ts';
import { ssmClient } from './clients.ts';

/**
 * How long a container trusts the key ring it read: a rotation (a new current key) reaches every function within
 * this time, without a deployment. Links signed meanwhile with the previous key stay valid, since it stays in the ring.
 */
const KEYS_TTL_MS = 5 * 60_000;
let cached: { keys: LinkKeys; readAt: number } | undefined;

/**
 * The HMAC keys for unit links (a key ring, or a plain secret as key `k1`). Locally from the environment (the
 * runtime keeps it in the data folder); on AWS from an SSM SecureString, read again every five minutes.
 */
export async function linkKeys(): Promise<LinkKeys> {
  if (cached && Date.now() - cached.readAt < KEYS_TTL_MS) return cached.keys;
  const fromEnv = process.env.SAFEDUTY_LINK_SECRET;
  let value: string | undefined = fromEnv;
  if (!value) {
    const name = process.env.LINK_SECRET_PARAMETER;
    if (!name) throw new Error('neither SAFEDUTY_LINK_SECRET nor LINK_SECRET_PARAMETER is set');
    const out = await ssmClient().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    value = out.Parameter?.Value;
    if (!value) throw new Error(`link secret parameter ${name} is empty`);
  }
  cached = { keys: parseLinkKeys(value), readAt: Date.now() };
  return cached.keys;
}

export function resetSecretCache(): void {
  cached = undefined;
}
