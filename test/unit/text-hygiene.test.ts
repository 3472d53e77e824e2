// Text hygiene at the boundaries: what a person types reaches records, subjects and pages only once it is safe.
import { describe, expect, it } from 'vitest';
import { sameActor, samePerson } from '../../functions/core/cases.ts';
import { emailSchema, personSchema, unitSchema } from '../../functions/core/model.ts';
import { freeText, lineText, nameIdentity, oneLine } from '../../functions/core/text.ts';

const problem = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
  r.success ? undefined : r.error?.issues.map((i) => i.message).join('; ');

describe('one-line texts (names, titles)', () => {
  const name = lineText(100);
  it.each([
    ['企业\r\nBcc: evil@example.com', '不能包含换行、控制字符或文字方向控制符'],
    ['河东\u0000建筑', '不能包含换行、控制字符或文字方向控制符'],
    ['\u202e司公限有筑建东河', '不能包含换行、控制字符或文字方向控制符'],
    ['河东\u2066建筑\u2069', '不能包含换行、控制字符或文字方向控制符'],
    ['\u200b\u200c\u200d', '不能为空'],
    ['  ', '不能为空'],
    ['甲'.repeat(101), '不能超过100个字符'],
  ])('refuses %j: %s', (input, message) => {
    expect(problem(name.safeParse(input))).toBe(message);
  });

  it('keeps Chinese full-width punctuation, removes invisible characters, composes canonically', () => {
    expect(name.parse(' 河东建筑有限公司（二分厂）\u200b ')).toBe('河东建筑有限公司（二分厂）');
    expect(name.parse('李\u200b娜')).toBe('李娜');
    expect(name.parse('Cafe\u0301')).toBe('Café');
  });

  it('applies to every name a unit carries', () => {
    const unit = {
      id: 'ent-x',
      name: '企业\nBcc: evil@example.com',
      kind: 'enterprise',
      contact: { name: '\u202e张三', email: 'a@example.com' },
      principal: { name: '\u200b', email: 'b@example.com' },
    };
    const r = unitSchema.safeParse(unit);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'contact.name',
      'name',
      'principal.name',
    ]);
  });
});

describe('longer texts (notes, minutes, form fields)', () => {
  it('keeps line breaks and tabs, turns CR LF into LF, refuses other controls and overrides', () => {
    expect(freeText(100).parse('第一条\r\n第二条\t完成')).toBe('第一条\n第二条\t完成');
    expect(problem(freeText(100).safeParse('a\u0007b'))).toBe('不能包含控制字符或文字方向控制符');
    expect(problem(freeText(100).safeParse('a\u202eb'))).toBe('不能包含控制字符或文字方向控制符');
  });
});

describe('addresses', () => {
  it.each([
    'a@-example.com',
    '.a@example.com',
    'a.@example.com',
    'a..b@example.com',
    'a@example-.com',
    'a@example',
    'a@exa_mple.com',
    `${'a'.repeat(65)}@example.com`,
    '张@example.com',
  ])('refuses %s', (address) => {
    expect(emailSchema.safeParse(address).success).toBe(false);
  });
  it.each([
    'a@example.com',
    'first.last+tag@mail.example.gov.cn',
    "o'brien@example.com",
    'a_b-c@x-y.example.cn',
  ])('accepts %s', (address) => {
    expect(emailSchema.safeParse(address).success).toBe(true);
  });
  it('a person with a bad address names the field', () => {
    const r = personSchema.safeParse({ name: '张三', email: 'a..b@example.com' });
    expect(r.error?.issues[0]?.path).toEqual(['email']);
  });
});

describe('who is the same person (separation of duties)', () => {
  it('compares names after compatibility normalization, without invisible characters, spaces or case', () => {
    expect(nameIdentity('李\u200b娜')).toBe(nameIdentity('李娜'));
    expect(nameIdentity('ＬＩ\u3000Ｎａ')).toBe(nameIdentity('li na'));
    expect(samePerson({ name: '李\u200b娜' }, { name: '李 娜' })).toBe(true);
    expect(
      samePerson({ name: '王工', email: 'w@example.com' }, { name: '王\u2060工', email: 'x@example.com' }),
    ).toBe(true);
    expect(
      samePerson({ name: '王工', email: 'w@example.com' }, { name: 'Wang', email: 'W@Example.com' }),
    ).toBe(true);
    expect(samePerson({ name: '王工' }, { name: '李科长' })).toBe(false);
  });

  it('a signed-in account is one person whatever name it types; without accounts the typed details decide', () => {
    const before = { person: { name: '王工' }, account: 'sub-1' };
    expect(sameActor(before, { person: { name: '李科长' }, account: 'sub-1' })).toBe(true);
    expect(sameActor(before, { person: { name: '李科长' }, account: 'sub-2' })).toBe(false);
    expect(sameActor(before, { person: { name: '王 工' }, account: 'sub-2' })).toBe(true);
    expect(sameActor({ person: { name: '王工' } }, { person: { name: '李科长' } })).toBe(false);
  });
});

describe('subjects', () => {
  it('never carry a line break or an override into a header, whatever the record holds', () => {
    expect(oneLine('【提醒】企业\r\nBcc: evil@example.com“整改”')).toBe(
      '【提醒】企业 Bcc: evil@example.com“整改”',
    );
    expect(oneLine('a\u202eb\u200bc')).toBe('a bc');
  });
});
