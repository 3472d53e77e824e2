// What an answer from the mail service means for the one email and for the run. Pure.

/**
 * - permanent: this address (or this message) will not be accepted; record it, tell 安委办, go on with the others;
 * - throttled: too fast; slow down and try the same email again;
 * - transient: the service or the network hiccuped; try again later (a run of these means the service is down);
 * - account: the account cannot send at all (sending paused, quota used up, identity not verified); stop, alarm.
 */
export type SendFailure = 'permanent' | 'throttled' | 'transient' | 'account';

const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling']);
const ACCOUNT = new Set([
  'AccountSuspendedException',
  'SendingPausedException',
  'LimitExceededException',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
  'AccessDeniedException',
]);
const PERMANENT = new Set(['MessageRejected', 'BadRequestException', 'InvalidParameterValue']);

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function classifySendError(err: unknown, sender?: string): SendFailure {
  const e = (err ?? {}) as ErrorShape;
  const name = e.name ?? '';
  if (THROTTLED.has(name)) return 'throttled';
  if (ACCOUNT.has(name)) return 'account';
  // "Email address is not verified. The following identities failed the check …: <addresses>" is the recipient's
  // (the sandbox) unless it names our own sender: then nobody can be sent to.
  if (sender && /not verified/i.test(e.message ?? '')) {
    const m = (e.message ?? '').toLowerCase();
    const s = sender.toLowerCase();
    if (m.includes(s) || m.includes(`: ${s.split('@')[1] ?? s}`)) return 'account';
  }
  if (PERMANENT.has(name)) return 'permanent';
  const status = e.$metadata?.httpStatusCode;
  if (status === 429) return 'throttled';
  // Another 4xx is about our request or account (a configuration set missing, a bad parameter of ours), not one
  // address: stop and alarm rather than mark everyone undeliverable.
  if (status !== undefined && status >= 400 && status < 500) return 'account';
  // Network errors (ECONNREFUSED, ECONNRESET, timeouts), 5xx and anything unknown: worth another try.
  return 'transient';
}

/** A short description of the error for the delivery record (English, for operators). */
export function errorText(err: unknown): string {
  const e = (err ?? {}) as ErrorShape;
  return `${e.name ?? 'Error'}: ${e.message ?? String(err)}`.slice(0, 500);
}

const SMS_ACCOUNT = new Set([
  'AccessDeniedException',
  'ServiceQuotaExceededException',
  'ResourceNotFoundException',
]);

/**
 * The same judgement for AWS End User Messaging SMS (SendTextMessage): a number it will not send to (invalid,
 * opted out, not verified in the sandbox) is permanent; a missing origination identity or exhausted quota is the
 * account's.
 */
export function classifySmsError(err: unknown): SendFailure {
  const e = (err ?? {}) as ErrorShape;
  const name = e.name ?? '';
  if (THROTTLED.has(name)) return 'throttled';
  if (SMS_ACCOUNT.has(name)) return 'account';
  // ValidationException: the destination (an invalid number, one not verified in the sandbox); ConflictException:
  // the number opted out (STOP).
  if (name === 'ValidationException' || name === 'ConflictException') return 'permanent';
  const status = e.$metadata?.httpStatusCode;
  if (status === 429) return 'throttled';
  if (status !== undefined && status >= 400 && status < 500) return 'account';
  return 'transient';
}

/** Why an address could not be delivered to, in words for 安委办. */
export function reasonZh(err: unknown): string {
  const e = (err ?? {}) as ErrorShape;
  const message = e.message ?? '';
  if (e.name === 'ConflictException' || /opt(ed)?[ _-]?out/i.test(message))
    return '该手机号码已退订短信，短信未能发出';
  if (e.name === 'ValidationException') return '短信服务认为该手机号码无效或不可发送，短信被拒收';
  if (/not verified/i.test(message)) return '邮件服务处于沙箱模式，该地址尚未验证，邮件被拒收';
  if (/suppress/i.test(message)) return '该地址在邮件服务的禁止发送名单中（曾退信或投诉）';
  if (e.name === 'BadRequestException' || e.name === 'InvalidParameterValue')
    return '邮件服务认为该地址格式无效';
  return '邮件服务拒收了发往该地址的邮件';
}
