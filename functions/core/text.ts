// Text that people type and other people read: names, titles, notes. What reaches a stored record, an email subject
// or a page must not carry line breaks into one-line places, control characters, or direction overrides that make
// text read differently from what it is (docs/decisions.md §22).
import { z } from 'zod';

/**
 * C0 and C1 controls (CR and LF included), line and paragraph separators, bidi embeddings, overrides and isolates,
 * the interlinear annotation marks. Never legitimate in a name or a title.
 */
/* eslint-disable no-control-regex -- matching control characters is the point */
const FORBIDDEN_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufff9-\ufffb]/u;
/** The same, with the line break and tab a note or a form field may contain. */
const FORBIDDEN_IN_TEXT =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufff9-\ufffb]/u;
/* eslint-enable no-control-regex */
/**
 * Characters that show nothing: zero-width space, non-joiner and joiner, direction marks, word joiner and the
 * invisible operators, soft hyphen, the byte-order mark, the combining grapheme joiner, the Mongolian vowel separator.
 * They carry no meaning in a Chinese name or title and are removed.
 */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]|\u034f/gu;

const LINE_PROBLEM = '不能包含换行、控制字符或文字方向控制符';
const TEXT_PROBLEM = '不能包含控制字符或文字方向控制符';

/** NFC (canonical: what looks the same is stored the same) without invisible characters, trimmed. */
function tidy(s: string): string {
  return s.normalize('NFC').replace(INVISIBLE, '').trim();
}

/**
 * A one-line text (a name, a title): no line breaks, controls or direction overrides; invisible characters removed;
 * not empty once they are. Canonical (NFC), not compatibility, normalization: NFKC would turn the full-width
 * punctuation of Chinese names (（），：) into ASCII.
 */
export function lineText(max: number) {
  return z
    .string()
    .refine((s) => !FORBIDDEN_IN_LINE.test(s), LINE_PROBLEM)
    .overwrite(tidy)
    .min(1, '不能为空')
    .max(max, `不能超过${max}个字符`);
}

/** A longer text (a note, minutes, a form field): line breaks allowed (CR LF kept as LF), nothing else invisible. */
export function freeText(max: number) {
  return z
    .string()
    .refine((s) => !FORBIDDEN_IN_TEXT.test(s.replace(/\r\n/g, '\n')), TEXT_PROBLEM)
    .overwrite((s) => s.replace(/\r\n/g, '\n').normalize('NFC').replace(INVISIBLE, ''))
    .max(max, `不能超过${max}个字符`);
}

/**
 * The identity of a name for comparing people: compatibility-normalized (full-width letters and digits are their
 * ASCII selves), without invisible characters or spaces, case-folded. `李\u200b娜`, `李 娜` and `李娜` are one person;
 * `ＬＩ\u3000Ｎａ` (full-width) and `li na` are one person.
 */
export function nameIdentity(name: string): string {
  return name.normalize('NFKC').replace(INVISIBLE, '').replace(/\s+/gu, '').toLowerCase();
}

/**
 * One line for an email subject or any header-like place, whatever the parts were: every control character and
 * direction override becomes a space (a record written before the checks existed must not reach a header as is).
 */
export function oneLine(s: string): string {
  return s
    .replace(new RegExp(FORBIDDEN_IN_LINE.source, 'gu'), ' ')
    .replace(INVISIBLE, '')
    .replace(/ {2,}/g, ' ')
    .trim();
}
