// The channel of an outbox address. A text message is a notice like an email, owed to `sms:<E.164 number>`, so
// delivery's guarantees (one record per message, nothing lost, no second send on a retry) hold for it unchanged.

const SMS_PREFIX = 'sms:';

/**
 * The outbox address of a mobile number as the roster writes it (`138 0000 0001`, `+86-138…`), or undefined for a
 * number no text message can reach (a landline such as 0355-1234567).
 */
export function smsAddressOf(phone: string): string | undefined {
  const digits = phone.replace(/[\s-]/g, '');
  if (/^1[3-9]\d{9}$/.test(digits)) return `${SMS_PREFIX}+86${digits}`;
  if (/^\+861[3-9]\d{9}$/.test(digits)) return `${SMS_PREFIX}${digits}`;
  if (/^861[3-9]\d{9}$/.test(digits)) return `${SMS_PREFIX}+${digits}`;
  // Another country's mobile in E.164: sent as written (a deployment outside the mainland).
  if (/^\+(?!86)[1-9]\d{7,14}$/.test(digits)) return `${SMS_PREFIX}${digits}`;
  return undefined;
}

export function isSmsAddress(address: string): boolean {
  return address.startsWith(SMS_PREFIX);
}

/** `sms:+8613800000001` → `+8613800000001`. */
export function phoneOf(address: string): string {
  return address.slice(SMS_PREFIX.length);
}

/** How an address is shown to people: the number for a phone, the address for an email. */
export function addressLabel(address: string): string {
  return isSmsAddress(address) ? `手机 ${phoneOf(address)}` : address;
}
