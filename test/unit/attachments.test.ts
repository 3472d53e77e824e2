import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachmentPrefix, newAttachmentKey, uploadUrl } from '../../functions/adapters/attachments.ts';
import { resetClients } from '../../functions/adapters/clients.ts';

describe('upload addresses', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    Object.assign(process.env, {
      ATTACHMENTS_BUCKET: 'safedutystateful-attachments-123456789012-ap-southeast-1',
      AWS_REGION: 'ap-southeast-1',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    delete process.env.AWS_ENDPOINT_URL_S3;
    delete process.env.S3_FORCE_PATH_STYLE;
    resetClients();
  });
  afterEach(() => {
    process.env = { ...saved };
    resetClients();
  });

  it('sign exactly the type and length, and carry no checksum of an empty body', async () => {
    const key = newAttachmentKey('cycle:monthly-safety-meeting:2023-02', 'town-001', 'image/jpeg');
    expect(key.startsWith(attachmentPrefix('cycle:monthly-safety-meeting:2023-02', 'town-001'))).toBe(true);
    expect(key).toMatch(/^attachments\/cycle_monthly-safety-meeting_2023-02\/town-001\/[0-9a-f-]{36}\.jpg$/);
    const url = new URL(await uploadUrl(key, 'image/jpeg', 245_760));
    expect(url.host).toBe(
      'safedutystateful-attachments-123456789012-ap-southeast-1.s3.ap-southeast-1.amazonaws.com',
    );
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(
      expect.arrayContaining(['content-length', 'content-type', 'host']),
    );
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBe(900);
    // S3 would refuse every real file against the checksum of an empty body.
    expect([...url.searchParams.keys()].filter((k) => k.toLowerCase().includes('checksum'))).toEqual([]);
  });
});
