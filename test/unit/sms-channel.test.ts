import { describe, expect, it } from 'vitest';
import { classifySmsError } from '../../functions/delivery/outcome.ts';
import { addressLabel, isSmsAddress, phoneOf, smsAddressOf } from '../../functions/notices/channels.ts';

const error = (name: string, status?: number) =>
  Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });

describe('the SMS channel of an outbox address', () => {
  it('reads mobile numbers as the roster writes them, and leaves landlines out', () => {
    expect(smsAddressOf('138 0000 0001')).toBe('sms:+8613800000001');
    expect(smsAddressOf('+86-138-0000-0001')).toBe('sms:+8613800000001');
    expect(smsAddressOf('8613800000001')).toBe('sms:+8613800000001');
    expect(smsAddressOf('0355-8000001')).toBeUndefined();
    expect(smsAddressOf('12345')).toBeUndefined();
    expect(smsAddressOf('+85291234567')).toBe('sms:+85291234567');
    expect(isSmsAddress('sms:+8613800000001')).toBe(true);
    expect(isSmsAddress('a@example.gov.cn')).toBe(false);
    expect(phoneOf('sms:+8613800000001')).toBe('+8613800000001');
    expect(addressLabel('sms:+8613800000001')).toBe('手机 +8613800000001');
  });

  it('judges End User Messaging errors: a number refused for good, a throttle, the account, a hiccup', () => {
    expect(classifySmsError(error('ValidationException', 400))).toBe('permanent');
    expect(classifySmsError(error('ConflictException', 400))).toBe('permanent');
    // The service model gives throttling a 400, so it is judged by name.
    expect(classifySmsError(error('ThrottlingException', 400))).toBe('throttled');
    expect(classifySmsError(error('AccessDeniedException', 403))).toBe('account');
    expect(classifySmsError(error('ServiceQuotaExceededException', 402))).toBe('account');
    expect(classifySmsError(error('InternalServerException', 500))).toBe('transient');
    expect(classifySmsError(error('TimeoutError'))).toBe('transient');
  });
});
