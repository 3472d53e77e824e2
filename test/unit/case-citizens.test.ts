import { describe, expect, it } from 'vitest';
import { checkFields } from '../../functions/core/cases.ts';
import { CaseDirectory } from '../../functions/core/cases-directory.ts';
import {
  citizenNoticePart,
  citizenOverduePart,
  citizenReminderPart,
  type CitizenMail,
} from '../../functions/core/cases-messages.ts';
import type { CaseRecord } from '../../functions/core/cases-model.ts';
import { ValidationError } from '../../functions/core/errors.ts';
import { CaseTypeError, loadCaseTypes, parseCaseTypes } from '../../workflows/cases/index.ts';
import { CASE_POSITION_ZH, type CaseType } from '../../workflows/cases/schema.ts';
import builtIn from '../../workflows/cases/types.json' with { type: 'json' };

// The owner (产权人) and the user/operator (使用人（经营者）) of a self-built house: people named on the case, not
// roster units. How they are declared, validated, resolved and told.

type Json = Record<string, unknown>;
const house = loadCaseTypes().get('self-built-house-rectification') as CaseType;
const houseJson = () =>
  structuredClone(builtIn.types.find((t) => t.id === 'self-built-house-rectification')) as unknown as Json & {
    openFields: Json[];
    onOpen: Json;
    stages: Json[];
    events: Json[];
  };

function issuesOf(type: unknown): string[] {
  try {
    parseCaseTypes({ types: [type] }, 'test');
  } catch (err) {
    expect(err).toBeInstanceOf(CaseTypeError);
    return (err as CaseTypeError).issues.map((i) => `${i.field}: ${i.problem}`);
  }
  throw new Error('expected the type to be rejected');
}

describe('the owner and occupant positions', () => {
  it('are named in Chinese', () => {
    expect(CASE_POSITION_ZH.owner).toBe('产权人');
    expect(CASE_POSITION_ZH.occupant).toBe('使用人（经营者）');
  });

  it('are read from open fields with formats: a mobile for SMS, an email', () => {
    expect(house.openFields.map((f) => `${f.key}:${f.format}:${f.required}`)).toEqual([
      'address:text:true',
      'ownerName:text:true',
      'ownerPhone:mobile:false',
      'ownerEmail:email:false',
      'occupantName:text:false',
      'occupantPhone:mobile:false',
      'occupantEmail:email:false',
      'use:text:true',
      'findings:text:true',
      'category:text:true',
    ]);
  });

  it('are told at opening, of the plan, before and once after the term, and of the acceptance', () => {
    const told = (positions: readonly string[] | undefined) =>
      positions?.includes('owner') && positions.includes('occupant');
    expect(told(house.onOpen?.positions)).toBe(true);
    expect(house.events.filter((e) => told(e.notify?.positions)).map((e) => e.id)).toEqual([
      'plan-submitted',
      'acceptance-passed',
      'acceptance-failed',
    ]);
    const rect = house.stages.find((s) => s.id === 'rectifying');
    expect(told(rect?.remind)).toBe(true);
    expect(rect?.escalation.map((e) => told(e.notify) ?? false)).toEqual([true, false, false, false]);
    // The 双通知 and 一报告 stages are the town's to do: their ladders go to officials only.
    for (const id of ['awaiting-notices', 'awaiting-report']) {
      const s = house.stages.find((x) => x.id === id);
      expect([...(s?.remind ?? []), ...(s?.escalation.flatMap((e) => e.notify) ?? [])]).not.toContain(
        'owner',
      );
    }
  });
});

describe('a case type addressing a citizen', () => {
  it('must have the open fields to reach them', () => {
    const t = houseJson();
    t.openFields = t.openFields.filter((f) => !String(f.key).startsWith('owner'));
    expect(issuesOf(t)).toEqual([
      'openFields: addresses owner: needs an open field ownerName',
      'openFields: addresses owner: needs an open field ownerPhone or ownerEmail',
    ]);
  });

  it('must give contact fields their format', () => {
    const t = houseJson();
    const phone = t.openFields.find((f) => f.key === 'ownerPhone') as Json;
    delete phone.format;
    (t.openFields.find((f) => f.key === 'occupantEmail') as Json).format = 'text';
    expect(issuesOf(t)).toEqual([
      'openFields[2].format: ownerPhone must have format mobile',
      'openFields[6].format: occupantEmail must have format email',
    ]);
  });

  it('must say in plain words what a notice means for them and what a stage asks of them', () => {
    const t = houseJson();
    delete t.onOpen.citizenZh;
    delete (t.stages.find((s) => s.id === 'rectifying') as Json).citizenActionZh;
    expect(issuesOf(t)).toEqual([
      'onOpen.citizenZh: required when the notice addresses a citizen (owner, occupant)',
      'stages[3].citizenActionZh: required when reminders or escalations address a citizen',
    ]);
  });

  it('does not remind them of progress reports', () => {
    const t = houseJson();
    (t.stages.find((s) => s.id === 'rectifying') as Json).progress = {
      titleZh: '整治进展',
      everyDays: 30,
      time: '18:00',
      reminder: { amount: -2, unit: 'workdays', at: '09:00' },
      remind: ['owner'],
    };
    expect(issuesOf(t)).toEqual(['stages[3].progress.remind: a citizen is not reminded of progress reports']);
  });
});

describe('checking the opening fields', () => {
  const valid = {
    address: '青山镇幸福路1号',
    ownerName: '张某某',
    use: '餐饮',
    findings: '违规加层',
    category: '限期整改',
  };
  const refusal = (fields: Record<string, string>) => {
    try {
      checkFields(house.openFields, fields, 'fields', undefined);
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const e = err as ValidationError;
      return { zh: e.messageZh, issues: e.issues };
    }
    return undefined;
  };

  it('accepts mobile numbers as people write them, and an owner with no contact at all', () => {
    expect(refusal(valid)).toBeUndefined();
    for (const ownerPhone of ['13800000201', '138 0000 0201', '+86 138-0000-0201', '8613800000201'])
      expect(refusal({ ...valid, ownerPhone }), ownerPhone).toBeUndefined();
    expect(
      refusal({ ...valid, ownerEmail: 'zhang@example.com', occupantPhone: '139 0000 0202' }),
    ).toBeUndefined();
  });

  it('refuses a number no text message reaches and a bad email, naming the field in Chinese', () => {
    expect(refusal({ ...valid, ownerPhone: '0355-1234567' })).toEqual({
      zh: '产权人手机号码不是有效的手机号码（须为能接收短信的手机号，如 13800000001）',
      issues: [
        {
          field: 'fields.ownerPhone',
          problem: '不是有效的手机号码（须为能接收短信的手机号，如 13800000001）',
        },
      ],
    });
    expect(refusal({ ...valid, ownerPhone: '1380000020' })?.issues.map((i) => i.field)).toEqual([
      'fields.ownerPhone',
    ]);
    const two = refusal({ ...valid, occupantPhone: '电话：13900000202', occupantEmail: 'li@' });
    expect(two?.zh).toBe(
      '使用人（经营者）手机号码不是有效的手机号码（须为能接收短信的手机号，如 13800000001）；使用人（经营者）电子邮箱不是有效的电子邮箱地址',
    );
  });
});

function record(fields: Record<string, string>): CaseRecord {
  return { caseId: 'sbh-test', fields } as unknown as CaseRecord;
}

describe('the case directory', () => {
  it('reaches a citizen at the contacts the case gives: a phone only is enough', async () => {
    const d = new CaseDirectory(
      record({
        ownerName: '张某某',
        ownerPhone: '138 0000 0201',
        occupantName: '李某',
        occupantEmail: 'li@example.com',
      }),
    );
    expect(await d.recipients(['owner', 'occupant'])).toEqual([
      {
        person: { name: '张某某', phone: '138 0000 0201' },
        rolesZh: ['产权人'],
        fallback: false,
        citizen: true,
      },
      {
        person: { name: '李某', email: 'li@example.com' },
        rolesZh: ['使用人（经营者）'],
        fallback: false,
        citizen: true,
      },
    ]);
    expect(d.warnings).toEqual([]);
  });

  it('merges an owner who runs the business, skips a case with no occupant, never falls back to 安委办', async () => {
    const same = new CaseDirectory(
      record({
        ownerName: '张某某',
        ownerPhone: '13800000201',
        ownerEmail: 'zhang@example.com',
        occupantName: '张某某',
        occupantPhone: '+86 138 0000 0201',
      }),
    );
    expect(await same.recipients(['owner', 'occupant'])).toEqual([
      {
        person: { name: '张某某', email: 'zhang@example.com', phone: '13800000201' },
        rolesZh: ['产权人', '使用人（经营者）'],
        fallback: false,
        citizen: true,
      },
    ]);
    const alone = new CaseDirectory(record({ ownerName: '张某某', ownerEmail: 'zhang@example.com' }));
    expect((await alone.recipients(['owner', 'occupant'])).map((r) => r.rolesZh)).toEqual([['产权人']]);
    expect(alone.warnings).toEqual([]);
  });

  it('skips a citizen the case gives no way to reach, with a warning', async () => {
    const d = new CaseDirectory(
      record({ ownerName: '张某某', occupantName: '李某', occupantPhone: '0355-1234567' }),
    );
    expect(await d.recipients(['owner', 'occupant'])).toEqual([]);
    expect(d.warnings).toEqual([
      'sbh-test: the owner has no mobile number or email on the case; not notified',
      'sbh-test: the occupant has no mobile number or email on the case; not notified',
    ]);
    expect(d.unaddressed).toEqual([]);
  });
});

describe('what a citizen reads', () => {
  const base: CitizenMail = {
    type: house,
    caseId: 'sbh-test',
    title: '幸福路1号经营性自建房',
    rolesZh: ['产权人'],
    about: [
      { labelZh: '房屋地址', value: '青山镇幸福路1号' },
      { labelZh: '排查发现的问题', value: '违规加层，承重墙开裂' },
    ],
    contactZh: '青山镇（联络人王某，电话0355-5123456）',
  };
  const rect = house.stages.find((s) => s.id === 'rectifying');
  const onOpen = house.onOpen;
  if (!rect || !onOpen) throw new Error('the built-in type changed');

  it('at opening: the hazard, what to do, by when, whom to ask; no link', () => {
    const p = citizenNoticePart({
      ...base,
      notice: onOpen,
      details: [],
      term: '2023-05-31T18:00:00+08:00',
    });
    expect(p.subjectLine).toBe('【整治通知】“幸福路1号经营性自建房”列入经营性自建房安全隐患整治台账');
    expect(p.link).toBeUndefined();
    const text = p.paragraphs.join('\n');
    expect(text).toContain(
      '您是“幸福路1号经营性自建房”的产权人。这栋房屋在经营性自建房安全隐患排查中发现存在安全隐患',
    );
    expect(text).toContain('排查发现的问题：违规加层，承重墙开裂');
    expect(text).toContain('整改期限：2023年5月31日（星期三）18:00。');
    expect(text).toContain('如有疑问，请联系青山镇（联络人王某，电话0355-5123456）。（案件编号：sbh-test）');
    // The text message stands alone: what was found, by when, whom to call.
    expect(p.sms).toContain('排查发现的问题：违规加层，承重墙开裂');
    expect(p.sms).toContain(
      '整改期限：2023年5月31日（星期三）18:00。咨询：青山镇（联络人王某，电话0355-5123456）',
    );
  });

  it('before and after the term', () => {
    const clock = { ...base, stage: rect, deadline: '2023-05-31T18:00:00+08:00', unitName: '青山镇' };
    const r = citizenReminderPart(clock);
    expect(r.subjectLine).toBe(
      '【提醒】“幸福路1号经营性自建房”须于2023年5月31日（星期三）18:00前完成房屋安全隐患整治',
    );
    expect(r.paragraphs[0]).toContain('如已完成，请及时告知青山镇。');
    const o = citizenOverduePart({ ...clock, workdaysOverdue: 1, supervisingName: '县住房和城乡建设局' });
    expect(o.subjectLine).toBe(
      '【逾期】“幸福路1号经营性自建房”应于2023年5月31日（星期三）18:00前完成房屋安全隐患整治，现已逾期',
    );
    expect(o.paragraphs[0]).toContain(
      '已逾期1个工作日。请立即落实整治；青山镇和县住房和城乡建设局将督促整治。',
    );
    expect(o.paragraphs.at(-1)).toContain('突出房屋所有人(使用人)主体责任');
  });
});
