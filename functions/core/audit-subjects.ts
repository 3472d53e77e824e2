import { idSchema } from './model.ts';
import { ValidationError } from './errors.ts';

/**
 * Audit subjects. Entries are stored under `AUDIT#<key>`, where the key is the subject record's own partition
 * key (`CYCLE#<duty>#<period>`, `UNIT#<id>`, `LEADER#<id>`, `CASE#<id>`). The API names subjects as
 * `cycle:<dutyId>:<periodKey>`, `unit:<id>`, `leader:<id>`, `case:<id>` — the same spelling as link items.
 */
export type AuditSubject =
  | { kind: 'cycle'; dutyId: string; periodKey: string }
  | { kind: 'unit'; id: string }
  | { kind: 'leader'; id: string }
  | { kind: 'case'; id: string }
  /** A year's holiday arrangement an administrator loaded. */
  | { kind: 'calendar'; id: string }
  /** A warning issued to units (its acknowledgements are cases of their own). */
  | { kind: 'warning'; id: string };

const PREFIX = {
  unit: 'UNIT',
  leader: 'LEADER',
  case: 'CASE',
  calendar: 'CALENDAR',
  warning: 'WARNING',
} as const;

export function auditKey(subject: AuditSubject): string {
  return subject.kind === 'cycle'
    ? `CYCLE#${subject.dutyId}#${subject.periodKey}`
    : `${PREFIX[subject.kind]}#${subject.id}`;
}

export function formatAuditSubject(subject: AuditSubject): string {
  return subject.kind === 'cycle'
    ? `cycle:${subject.dutyId}:${subject.periodKey}`
    : `${subject.kind}:${subject.id}`;
}

/** The stored key back to the API spelling (unknown shapes are returned unchanged). */
export function publicSubject(key: string): string {
  const m = /^(CYCLE|UNIT|LEADER|CASE|CALENDAR|WARNING)#([^#]+)(?:#([^#]+))?$/.exec(key);
  if (!m) return key;
  if (m[1] === 'CYCLE') return m[3] ? `cycle:${m[2]}:${m[3]}` : key;
  return m[3] ? key : `${(m[1] ?? '').toLowerCase()}:${m[2]}`;
}

function bad(problem: string): ValidationError {
  return new ValidationError(`bad audit subject: ${problem}`, '审计对象格式有误', [
    { field: 'subject', problem },
  ]);
}

/**
 * Parses `cycle:<dutyId>:<periodKey>` / `unit:<id>` / `leader:<id>` / `case:<id>` / `calendar:<year>` /
 * `warning:<id>`; 400 otherwise.
 */
export function parseAuditSubject(text: string): AuditSubject {
  const parts = text.split(':');
  const [kind, a, b, ...rest] = parts;
  const expected =
    'expected cycle:<dutyId>:<periodKey>, unit:<id>, leader:<id>, case:<id>, calendar:<year> or warning:<id>';
  if (rest.length > 0 || !a) throw bad(expected);
  if (kind === 'cycle') {
    if (!b || !/^[a-z][a-z0-9-]{0,62}$/.test(a) || !/^[0-9A-Z-]{4,10}$/.test(b)) throw bad(expected);
    return { kind, dutyId: a, periodKey: b };
  }
  if (kind === 'case' && b === undefined) {
    // Case ids are the cases module's to choose; any key-safe token is accepted here.
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(a)) throw bad('case id: letters, digits, "-" or "_"');
    return { kind, id: a };
  }
  if (kind === 'calendar' && b === undefined) {
    if (!/^20\d{2}$/.test(a)) throw bad('calendar: a year such as 2027');
    return { kind, id: a };
  }
  if ((kind === 'unit' || kind === 'leader' || kind === 'warning') && b === undefined) {
    if (!idSchema.safeParse(a).success)
      throw bad(`${kind} id: must be 1–63 lowercase letters, digits or hyphens`);
    return { kind, id: a };
  }
  throw bad(expected);
}
