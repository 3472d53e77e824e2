// What an SES event reported after sending means for an address: pure.
import { describe, expect, it } from 'vitest';
import { refusalsOf, sesMailEventSchema, RECORD_TAG } from '../../functions/delivery/refusals.ts';

const key = '2023-02-06T09:00:00+08:00#delivery-20230206T0900#001#lf2k9';
const event = (detail: Record<string, unknown>, detailType = 'Email Bounced') =>
  sesMailEventSchema.parse({
    source: 'aws.ses',
    'detail-type': detailType,
    detail: {
      mail: {
        messageId: 'm-1',
        destination: ['a@x.cn'],
        tags: { [RECORD_TAG]: [Buffer.from(key).toString('base64url')], 'ses:configuration-set': ['cs'] },
      },
      ...detail,
    },
  });

describe('refusals reported after sending', () => {
  it('a permanent bounce refuses the address and names the email’s record', () => {
    const r = refusalsOf(
      event({
        eventType: 'Bounce',
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [{ emailAddress: 'a@x.cn', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
        },
      }),
    );
    expect(r).toEqual([
      {
        address: 'a@x.cn',
        recordKey: key,
        error: 'Bounce General: smtp; 550 5.1.1 user unknown',
        reasonZh: '邮件被对方邮件服务器退回：地址不存在或拒收',
      },
    ]);
  });

  it('an address on the account’s suppression list says so', () => {
    const [r] = refusalsOf(
      event({
        eventType: 'Bounce',
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'OnAccountSuppressionList',
          bouncedRecipients: [{ emailAddress: 'a@x.cn' }],
        },
      }),
    );
    expect(r?.reasonZh).toBe('该地址在邮件服务的禁止发送名单中（曾退信或投诉）');
  });

  it('a transient bounce (a full mailbox) refuses nobody: SES keeps trying', () => {
    expect(
      refusalsOf(
        event({
          eventType: 'Bounce',
          bounce: { bounceType: 'Transient', bouncedRecipients: [{ emailAddress: 'a@x.cn' }] },
        }),
      ),
    ).toEqual([]);
  });

  it('a complaint refuses the address', () => {
    const r = refusalsOf(
      event(
        { eventType: 'Complaint', complaint: { complainedRecipients: [{ emailAddress: 'a@x.cn' }] } },
        'Email Complaint Received',
      ),
    );
    expect(r.map((x) => [x.address, x.reasonZh])).toEqual([
      ['a@x.cn', '收件人将提醒邮件标记为垃圾邮件，此后不再向其发送'],
    ]);
  });
});
