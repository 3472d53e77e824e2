// A text message: what a phone can show of the notices owed to it — each item in the case side's short words, and
// the link to act on it. An email sent beside it, where there is an address, carries the whole text.
import type { Notice } from '../notices/model.ts';
import { phoneOf } from '../notices/channels.ts';
import { carriedOf, type ComposeContext } from './compose.ts';
import type { ComposedEmail } from './model.ts';

/**
 * The sender's name in brackets opens every message, as a registered SMS signature must on mainland networks; a
 * deployment sets its registered signature (SMS_SIGNATURE), the default is the county's office.
 */
export function smsSignature(): string {
  return process.env.SMS_SIGNATURE ?? '襄垣县安委办';
}

function line(n: Notice, ctx: ComposeContext): string {
  const b = n.body;
  if (b.type !== 'case') return '详情请查看邮件。';
  const link = b.link ? ctx.links.caseLink(b.caseId, b.link.unitId, b.link.expires) : undefined;
  // The case side's words say what to do; the link is where. Without one the text says it all: someone with only
  // a phone (a house owner) reads nothing else.
  const act = !link ? '' : b.kind === 'notice' ? `点击办理：${link}` : `详情：${link}`;
  return `${b.sms ?? b.subjectLine}。${act}`;
}

/** The message for one phone: its notices in order, one line each; `subject` is kept for the delivery record. */
export function composeSms(
  recipient: { address: string; name: string },
  notices: readonly Notice[],
  ctx: ComposeContext,
): ComposedEmail {
  const first = notices[0]?.body;
  const subject = first?.type === 'case' ? first.subjectLine : '安全生产提醒';
  const text = `【${smsSignature()}】${recipient.name}：${notices.map((n) => line(n, ctx)).join('\n')}`;
  return { to: phoneOf(recipient.address), subject, text, html: '', carried: carriedOf(notices) };
}
