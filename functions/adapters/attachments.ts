// Files units attach to their reports, in S3 (locally the S3 emulator): the browser uploads straight to the bucket
// with a short-lived presigned PUT, the API checks what arrived before it records the report, and administrators
// read a file through a short-lived presigned GET.
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ATTACHMENT_TYPES } from '../core/report-form.ts';
import { s3Client } from './clients.ts';

/** How long an upload or download address stays valid. */
const URL_SECONDS = 15 * 60;

function bucket(): string {
  const name = process.env.ATTACHMENTS_BUCKET;
  if (!name) throw new Error('ATTACHMENTS_BUCKET is not set');
  return name;
}

/** The folder of one unit's files for one item (a cycle or a case): a key outside it is not the unit's. */
export function attachmentPrefix(item: string, unitId: string): string {
  return `attachments/${item.replace(/[^A-Za-z0-9._-]/g, '_')}/${unitId}/`;
}

export function newAttachmentKey(item: string, unitId: string, contentType: string): string {
  return `${attachmentPrefix(item, unitId)}${randomUUID()}.${ATTACHMENT_TYPES[contentType]?.extension ?? 'bin'}`;
}

/** A presigned PUT for exactly this type and size: S3 refuses a different file. */
export async function uploadUrl(key: string, contentType: string, size: number): Promise<string> {
  return getSignedUrl(
    s3Client(),
    new PutObjectCommand({ Bucket: bucket(), Key: key, ContentType: contentType, ContentLength: size }),
    { expiresIn: URL_SECONDS, signableHeaders: new Set(['content-type', 'content-length']) },
  );
}

/** What is stored under a key (size and type), or undefined when nothing is. */
export async function storedAttachment(
  key: string,
): Promise<{ size: number; contentType: string } | undefined> {
  try {
    const head = await s3Client().send(new HeadObjectCommand({ Bucket: bucket(), Key: key }));
    return { size: head.ContentLength ?? 0, contentType: head.ContentType ?? '' };
  } catch (err) {
    if (err instanceof NotFound || (err as { name?: string }).name === 'NotFound') return undefined;
    throw err;
  }
}

/** A presigned GET that downloads the file under the name the unit gave it. */
export async function downloadUrl(key: string, name: string): Promise<string> {
  return getSignedUrl(
    s3Client(),
    new GetObjectCommand({
      Bucket: bucket(),
      Key: key,
      ResponseContentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    }),
    { expiresIn: URL_SECONDS },
  );
}

/** The origin a browser uploads to (for the pages' content security policy). */
export function uploadOrigin(): string {
  const local = process.env.AWS_ENDPOINT_URL_S3;
  if (local) return new URL(local).origin;
  return `https://${bucket()}.s3.${process.env.AWS_REGION ?? 'us-east-1'}.amazonaws.com`;
}
