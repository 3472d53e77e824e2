// The attachments bucket locally: s3rver, a local S3 that speaks the S3 protocol (presigned PUT and GET, HEAD,
// CORS), storing files in the data folder (or a temporary folder when the runtime keeps nothing).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

const require = createRequire(import.meta.url);

export const LOCAL_ATTACHMENTS_BUCKET = 'safeduty-attachments';

/** The bucket's CORS rule, as on AWS: pages upload by PUT from their own origin, and read what they uploaded. */
const CORS = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

export async function startLocalS3(options: {
  dataDir: string | null | undefined;
  /** The access key the handlers sign with (the runtime's fake credentials). */
  accessKeyId: string;
  secretAccessKey: string;
}): Promise<{ endpoint: string; close: () => Promise<void> }> {
  // s3rver knows one account and checks that a request names one of its keys: teach it the runtime's.
  const account = require('s3rver/lib/models/account.js') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  account.DUMMY_ACCOUNT.createKeyPair(options.accessKeyId, options.secretAccessKey);
  const temporary = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'safeduty-s3-'));
  const directory = options.dataDir ? join(options.dataDir, 's3') : (temporary as string);
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: LOCAL_ATTACHMENTS_BUCKET, configs: [CORS] }],
  });
  const address = (await server.run()) as { address: string; port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await server.close();
      if (temporary) rmSync(temporary, { recursive: true, force: true });
    },
  };
}
