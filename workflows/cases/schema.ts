import { z } from 'zod';
import { clauseSchema, offsetSchema as dutyOffsetSchema, unitKindSchema } from '../catalog/schema.ts';

/**
 * Case types are data: stages, the events that move a case between them (and who may send each), each stage's
 * deadline rule, reminders and escalation ladder. This file is the schema; `types.json` holds the built-in types
 * and `index.ts` loads and validates them. Behaviour that is not a number or a name (a plan must have all five
 * parts, the acceptor must not be the reporter, an extension must come early enough) is a small closed vocabulary
 * of event properties, so a new case type needs data only.
 */

/**
 * Positions a case message can be addressed to, relative to the case: its responsible unit (an enterprise, or the
 * town for a self-built house) and its supervising unit (the department that listed it). Who holds a position is
 * data on the units and the leader records; a position nobody holds falls back to 安委办 (labelled as such).
 *
 * `owner` and `occupant` are people named on the case itself, not roster units: a self-built house's 产权人 and its
 * 使用人（经营者）, citizens who bear the primary responsibility for the building (CITIZEN_POSITIONS).
 */
export const CASE_POSITIONS = [
  'responsible.contact',
  'responsible.principal',
  'responsible.staff-representative',
  'supervising.contact',
  'supervising.principal',
  'leader-in-charge',
  'safety-office',
  'owner',
  'occupant',
] as const;
export const casePositionSchema = z.enum(CASE_POSITIONS);
export type CasePosition = z.infer<typeof casePositionSchema>;

export const CASE_POSITION_ZH: Record<CasePosition, string> = {
  'responsible.contact': '责任单位联络人',
  'responsible.principal': '责任单位主要负责人',
  'responsible.staff-representative': '职工代表',
  'supervising.contact': '监管部门联络人',
  'supervising.principal': '监管部门负责人',
  'leader-in-charge': '分管县领导',
  'safety-office': '县安委办',
  owner: '产权人',
  occupant: '使用人（经营者）',
};

/**
 * Positions held by a citizen named on the case. Read from the case's open fields `<position>Name`,
 * `<position>Phone` (format `mobile`, reached by SMS) and `<position>Email` (format `email`). They get a plain-words
 * message without a link (they are no party to the case), and a vacant one is skipped: a citizen's message never
 * goes to 安委办 in their place.
 */
export const CITIZEN_POSITIONS = ['owner', 'occupant'] as const;
export type CitizenPosition = (typeof CITIZEN_POSITIONS)[number];
export const isCitizenPosition = (p: CasePosition): p is CitizenPosition =>
  (CITIZEN_POSITIONS as readonly string[]).includes(p);
export const citizenFieldKeys = (p: CitizenPosition) =>
  ({ name: `${p}Name`, phone: `${p}Phone`, email: `${p}Email` }) as const;

/** Who acts in a stage, and who may send an event: an administrator, or either unit through its signed case link. */
export const PARTIES = ['responsible', 'supervising'] as const;
export const partySchema = z.enum(PARTIES);
export type Party = z.infer<typeof partySchema>;
export const actorSchema = z.enum(['admin', ...PARTIES]);
export type Actor = z.infer<typeof actorSchema>;

export const ACTOR_ZH: Record<Actor, string> = {
  admin: '县安委办（管理员）',
  responsible: '责任单位',
  supervising: '监管部门',
};

/**
 * An offset from a deadline: the catalog's hours, days and working days, and minutes for cases whose clock runs in
 * minutes (a warning that must be answered at once).
 */
export const caseOffsetSchema = dutyOffsetSchema.extend({
  unit: z.enum(['minutes', 'hours', 'days', 'workdays']),
});
export type Offset = z.infer<typeof caseOffsetSchema>;

/** How an offset's unit is said: `前3个工作日`, `后15分钟`. */
export const OFFSET_UNIT_ZH: Record<Offset['unit'], string> = {
  minutes: '分钟',
  hours: '小时',
  days: '天',
  workdays: '个工作日',
};
const offsetSchema = caseOffsetSchema;

/**
 * How a case's notices travel: email always; `sms` adds a text message to every addressee with a mobile number on
 * the roster, for what must be read within minutes.
 */
export const CHANNELS = ['email', 'sms'] as const;
const channelsSchema = z
  .array(z.enum(CHANNELS))
  .min(1)
  .refine((c) => c.includes('email'), 'email is always one of the channels')
  .default(['email']);

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM');
const idPattern = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const localId = z
  .string()
  .max(40)
  .regex(idPattern, 'must be kebab-case: lowercase letters, digits and hyphens');

/**
 * When a stage (or a pending request) is due, counted from the instant the case entered it:
 * - workdays-after-entry: the n-th working day after the entry date on the official calendar (调休 included);
 * - days-after-entry: n calendar days after the entry date, moved to the next working day if it is a rest day;
 * - term: the case's rectification term (set when the case is opened, moved by a granted extension or a failed
 *   acceptance).
 */
export const caseDeadlineRuleSchema = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('workdays-after-entry'), n: z.number().int().min(1).max(250), time: timeOfDay })
    .strict(),
  z
    .object({ type: z.literal('days-after-entry'), n: z.number().int().min(1).max(3650), time: timeOfDay })
    .strict(),
  z.object({ type: z.literal('term') }).strict(),
]);
export type CaseDeadlineRule = z.infer<typeof caseDeadlineRuleSchema>;

export const caseEscalationLevelSchema = z
  .object({
    level: z.number().int().min(1).max(9),
    offset: offsetSchema,
    notify: z.array(casePositionSchema).min(1),
  })
  .strict();
export type CaseEscalationLevel = z.infer<typeof caseEscalationLevelSchema>;

/** A text field a form must carry (an event's body or the opening request), with its Chinese label. */
export const fieldSpecSchema = z
  .object({
    key: z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/, 'must be a camelCase key'),
    labelZh: z.string().min(1).max(40),
    /** Longest accepted value (characters). */
    maxLength: z.number().int().min(1).max(5000).default(2000),
    required: z.boolean().default(true),
    /** `mobile`: a mobile number a text message can reach; `email`: an email address; else free text. */
    format: z.enum(['text', 'mobile', 'email']).default('text'),
  })
  .strict();
export type FieldSpec = z.infer<typeof fieldSpecSchema>;

/** The schedule of a track with a deadline: reminders before it, escalation levels after it. */
const clockShape = {
  deadline: caseDeadlineRuleSchema,
  reminders: z.array(offsetSchema).max(5),
  /** Who is reminded before the deadline. */
  remind: z.array(casePositionSchema).min(1),
  escalation: z.array(caseEscalationLevelSchema).max(6),
};

export const progressSchema = z
  .object({
    titleZh: z.string().min(1),
    /** A progress report is due every `everyDays` calendar days after the stage starts (next working day). */
    everyDays: z.number().int().min(7).max(366),
    time: timeOfDay,
    /** When, before each due date, the party is reminded if no report came since the previous one. */
    reminder: offsetSchema,
    remind: z.array(casePositionSchema).min(1),
  })
  .strict();

export const stageSchema = z
  .object({
    id: localId,
    titleZh: z.string().min(1),
    /** What the party must do in this stage, e.g. "报送“五到位”整改方案" (used in reminders and escalations). */
    actionZh: z.string().min(1).optional(),
    party: partySchema.optional(),
    /** A terminal stage ends the case: no deadline, no reminders. */
    terminal: z.boolean().default(false),
    clause: clauseSchema,
    ...clockShape,
    deadline: caseDeadlineRuleSchema.optional(),
    reminders: clockShape.reminders.default([]),
    remind: clockShape.remind.optional(),
    escalation: clockShape.escalation.default([]),
    progress: progressSchema.optional(),
    /**
     * `immediate`: the stage's reminders and escalations go out at their exact instants, day or night, rest days
     * included (a warning's acknowledgement); otherwise the delivery policy places them on routine moments.
     */
    urgency: z.literal('immediate').optional(),
    channels: channelsSchema,
    /**
     * What the stage asks of a citizen (owner, occupant), in plain words, e.g. "完成房屋安全隐患整治": required when
     * its reminders or escalations address one.
     */
    citizenActionZh: z.string().min(1).optional(),
    /** Where the numbers come from (a regulation, or our choice and why). */
    policyNote: z.string().min(1).optional(),
  })
  .strict();
export type Stage = z.infer<typeof stageSchema>;

/** A request with its own clock running beside the stage (an extension request awaiting a decision). */
export const requestSchema = z
  .object({
    id: localId,
    titleZh: z.string().min(1),
    actionZh: z.string().min(1),
    party: partySchema,
    clause: clauseSchema,
    ...clockShape,
    policyNote: z.string().min(1).optional(),
  })
  .strict();
export type CaseRequest = z.infer<typeof requestSchema>;

export const noticeSchema = z
  .object({
    /** Subject prefix, e.g. 【挂牌督办】, 【销号】, 【通知】. */
    prefixZh: z.string().regex(/^【[^】]{1,8}】$/, 'must be a bracketed prefix such as 【通知】'),
    /** What happened, completing "<unit>“<case>”…", e.g. "已挂牌督办". */
    noticeZh: z.string().min(1),
    positions: z.array(casePositionSchema).min(1),
    /**
     * routine: with the next routine moment's email; urgent: at once, outside quiet hours (e.g. a listing);
     * immediate: at once, day or night (a warning).
     */
    urgency: z.enum(['routine', 'urgent', 'immediate']).default('routine'),
    channels: channelsSchema,
    /**
     * What a citizen (owner, occupant) is told, in plain words instead of `noticeZh`: required when `positions`
     * names one.
     */
    citizenZh: z.string().min(1).optional(),
  })
  .strict();
export type Notice = z.infer<typeof noticeSchema>;

export const eventSchema = z
  .object({
    id: localId,
    titleZh: z.string().min(1),
    /** The stages in which the event is accepted. */
    from: z.array(localId).min(1),
    /** The stage the case moves to; absent: the case stays where it is (a progress report, a request). */
    to: localId.optional(),
    by: z.array(actorSchema).min(1),
    /** Text fields the body must carry (all non-empty unless optional), e.g. the five parts of a 五到位 plan. */
    fields: z.array(fieldSpecSchema).default([]),
    /** Why the fields are required, shown when some are missing (e.g. "整改方案须做到“五到位”"). */
    fieldsRuleZh: z.string().min(1).optional(),
    /** The body must name the person who did it (name, optional email). */
    person: z.boolean().default(false),
    /** The person must differ from the one named by the latest event of this id in the current stage visit. */
    distinctPersonFrom: localId.optional(),
    /** `newDeadline` (a date) sets the case's rectification term: required, optional, or not accepted. */
    newDeadline: z.enum(['required', 'optional', 'none']).default('none'),
    /** The event must arrive no later than this offset before the rectification term (negative). */
    latestBeforeTerm: offsetSchema.optional(),
    /** Opens a request (its clock starts), or resolves the open one (granted: its deadline becomes the term). */
    opens: localId.optional(),
    resolves: z
      .object({ request: localId, outcome: z.enum(['granted', 'refused']) })
      .strict()
      .optional(),
    /**
     * Sent with one tap: the page shows a button per person of the unit (its principal, its contact) instead of a
     * form, and the button names who answered (a warning's acknowledgement). Takes no fields.
     */
    oneTap: z.boolean().default(false),
    /** Counts as a periodic progress report of the stage. */
    progressReport: z.boolean().default(false),
    /** Withdraws an open request (e.g. completion reported while an extension is pending). */
    withdrawsRequests: z.boolean().default(false),
    notify: noticeSchema.optional(),
  })
  .strict();
export type CaseEvent = z.infer<typeof eventSchema>;

export const CASE_TYPE_ID_PATTERN = idPattern;

export const caseTypeSchema = z
  .object({
    id: z.string().max(40).regex(idPattern, 'must be kebab-case: lowercase letters, digits and hyphens'),
    titleZh: z.string().min(2),
    /** Case ids are `<idPrefix>-<yyyymmdd>-<random>`. */
    idPrefix: z.string().regex(/^[a-z]{2,6}$/, 'must be 2–6 lowercase letters'),
    clause: clauseSchema,
    responsibleKinds: z.array(unitKindSchema).min(1),
    supervisingKinds: z.array(unitKindSchema).min(1),
    /** Text fields of the opening request (e.g. the hazard and its grade). */
    openFields: z.array(fieldSpecSchema).default([]),
    /** Time of day a term given as a date ends. */
    termTime: timeOfDay,
    /** What the term is called in messages and pages (整改期限, 评估期限, 处理期限, 叫应时限). */
    termLabelZh: z.string().min(2).max(10).default('整改期限'),
    /**
     * How the term is given when a case is opened: a date (or days from now), ending at `termTime` on a working
     * day; or a number of minutes from the opening, to the minute, day or night (a warning's acknowledgement).
     */
    termGiven: z.enum(['date', 'minutes']).default('date'),
    /**
     * A case may be opened with an end instant (a warning's validity): still open then, it moves to this terminal
     * stage by itself.
     */
    endsIn: localId.optional(),
    initialStage: localId,
    /** Sent when the case is opened (e.g. 双报告 at listing). */
    onOpen: noticeSchema.optional(),
    stages: z.array(stageSchema).min(2),
    requests: z.array(requestSchema).default([]),
    events: z.array(eventSchema).min(1),
    policyNote: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const stageIds = new Set<string>();
    t.stages.forEach((s, i) => {
      if (stageIds.has(s.id))
        ctx.addIssue({ code: 'custom', path: ['stages', i, 'id'], message: 'duplicate stage id' });
      stageIds.add(s.id);
      if (s.terminal) {
        if (s.deadline || s.reminders.length > 0 || s.escalation.length > 0 || s.progress) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', i, 'terminal'],
            message: 'a terminal stage has no deadline, reminders, escalation or progress reports',
          });
        }
        return;
      }
      for (const [field, present] of [
        ['deadline', s.deadline],
        ['actionZh', s.actionZh],
        ['party', s.party],
        ['remind', s.remind],
      ] as const) {
        if (!present) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', i, field],
            message: 'required for a stage that is not terminal',
          });
        }
      }
      checkClock(ctx, ['stages', i], s.reminders, s.escalation);
      if (s.progress && toApproxHours(s.progress.reminder) >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'progress', 'reminder', 'amount'],
          message: 'a reminder must come before the deadline (negative amount)',
        });
      }
    });
    if (t.endsIn !== undefined && !t.stages.find((s) => s.id === t.endsIn)?.terminal)
      ctx.addIssue({ code: 'custom', path: ['endsIn'], message: 'must name a terminal stage' });
    if (!stageIds.has(t.initialStage))
      ctx.addIssue({ code: 'custom', path: ['initialStage'], message: 'unknown stage' });
    if (!t.stages.some((s) => s.terminal))
      ctx.addIssue({ code: 'custom', path: ['stages'], message: 'a case type needs a terminal stage' });

    const requestIds = new Set<string>();
    t.requests.forEach((r, i) => {
      if (requestIds.has(r.id))
        ctx.addIssue({ code: 'custom', path: ['requests', i, 'id'], message: 'duplicate request id' });
      requestIds.add(r.id);
      if (r.deadline.type === 'term')
        ctx.addIssue({
          code: 'custom',
          path: ['requests', i, 'deadline', 'type'],
          message: 'a request is decided within a time after it is made, not by the term',
        });
      checkClock(ctx, ['requests', i], r.reminders, r.escalation);
    });

    const eventIds = new Set<string>();
    t.events.forEach((e, i) => {
      if (eventIds.has(e.id))
        ctx.addIssue({ code: 'custom', path: ['events', i, 'id'], message: 'duplicate event id' });
      eventIds.add(e.id);
      e.from.forEach((s, j) => {
        if (!stageIds.has(s))
          ctx.addIssue({ code: 'custom', path: ['events', i, 'from', j], message: 'unknown stage' });
        else if (t.stages.find((x) => x.id === s)?.terminal)
          ctx.addIssue({
            code: 'custom',
            path: ['events', i, 'from', j],
            message: 'no event leaves a terminal stage',
          });
      });
      if (e.to !== undefined && !stageIds.has(e.to))
        ctx.addIssue({ code: 'custom', path: ['events', i, 'to'], message: 'unknown stage' });
      if (e.opens !== undefined && !requestIds.has(e.opens))
        ctx.addIssue({ code: 'custom', path: ['events', i, 'opens'], message: 'unknown request' });
      if (e.resolves && !requestIds.has(e.resolves.request))
        ctx.addIssue({
          code: 'custom',
          path: ['events', i, 'resolves', 'request'],
          message: 'unknown request',
        });
      if (e.latestBeforeTerm && toApproxHours(e.latestBeforeTerm) >= 0)
        ctx.addIssue({
          code: 'custom',
          path: ['events', i, 'latestBeforeTerm', 'amount'],
          message: 'must be before the term (negative amount)',
        });
      const keys = new Set<string>();
      e.fields.forEach((f, j) => {
        if (keys.has(f.key))
          ctx.addIssue({
            code: 'custom',
            path: ['events', i, 'fields', j, 'key'],
            message: 'duplicate field key',
          });
        keys.add(f.key);
      });
    });
    // Checked after every id is known, since events may refer to events listed after them.
    t.events.forEach((e, i) => {
      if (e.distinctPersonFrom !== undefined) {
        const other = t.events.find((x) => x.id === e.distinctPersonFrom);
        if (!other)
          ctx.addIssue({
            code: 'custom',
            path: ['events', i, 'distinctPersonFrom'],
            message: 'unknown event',
          });
        else if (!other.person || !e.person)
          ctx.addIssue({
            code: 'custom',
            path: ['events', i, 'distinctPersonFrom'],
            message: 'both events must name a person (person: true)',
          });
      }
    });
    const openKeys = new Set<string>();
    t.openFields.forEach((f, j) => {
      if (openKeys.has(f.key))
        ctx.addIssue({ code: 'custom', path: ['openFields', j, 'key'], message: 'duplicate field key' });
      openKeys.add(f.key);
    });
    checkCitizens(ctx, t);
  });
export type CaseType = z.infer<typeof caseTypeSchema>;
export type CaseTypeInput = z.input<typeof caseTypeSchema>;

export const caseTypesFileSchema = z
  .object({
    source: z.string().min(1).optional(),
    /** A deployment's file: merged into the built-in types by id (extend, the default), or instead of them. */
    mode: z.enum(['extend', 'replace']).default('extend'),
    types: z.array(caseTypeSchema).min(1),
  })
  .strict();
export type CaseTypesFile = z.infer<typeof caseTypesFileSchema>;

function checkClock(
  ctx: z.RefinementCtx,
  path: (string | number)[],
  reminders: Offset[],
  escalation: { level: number; offset: Offset }[],
): void {
  reminders.forEach((r, i) => {
    if (toApproxHours(r) >= 0)
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'reminders', i, 'amount'],
        message: 'a reminder must come before the deadline (negative amount)',
      });
  });
  let previous = 0;
  escalation.forEach((e, i) => {
    if (e.level !== i + 1)
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'escalation', i, 'level'],
        message: `levels must be numbered 1, 2, 3… in order; expected ${i + 1}`,
      });
    const hours = toApproxHours(e.offset);
    // The first level may speak at the deadline itself (a warning not answered in time); later ones after it.
    if (hours < 0 || (hours === 0 && i > 0))
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'escalation', i, 'offset', 'amount'],
        message: 'an escalation must come after the deadline (positive amount)',
      });
    else if (i > 0 && hours <= previous)
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'escalation', i, 'offset'],
        message: 'escalation levels must come later than the level before',
      });
    previous = hours;
  });
}

/**
 * A type that addresses a citizen (owner, occupant) must have the open fields to reach them and the plain words to
 * tell them; a citizen hears of stages and notices, not of requests or progress reports, which the units answer for.
 */
function checkCitizens(
  ctx: z.RefinementCtx,
  t: Pick<CaseType, 'openFields' | 'onOpen' | 'stages' | 'requests' | 'events'>,
): void {
  const used = new Set<CitizenPosition>();
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  const notice = (n: Notice | undefined, path: (string | number)[]) => {
    const citizens = n?.positions.filter(isCitizenPosition) ?? [];
    citizens.forEach((p) => used.add(p));
    if (citizens.length > 0 && !n?.citizenZh)
      issue([...path, 'citizenZh'], 'required when the notice addresses a citizen (owner, occupant)');
  };
  notice(t.onOpen, ['onOpen']);
  t.events.forEach((e, i) => notice(e.notify, ['events', i, 'notify']));
  t.stages.forEach((s, i) => {
    const citizens = [...(s.remind ?? []), ...s.escalation.flatMap((e) => e.notify)].filter(
      isCitizenPosition,
    );
    citizens.forEach((p) => used.add(p));
    if (citizens.length > 0 && !s.citizenActionZh)
      issue(['stages', i, 'citizenActionZh'], 'required when reminders or escalations address a citizen');
    if (s.progress?.remind.some(isCitizenPosition))
      issue(['stages', i, 'progress', 'remind'], 'a citizen is not reminded of progress reports');
  });
  t.requests.forEach((r, i) => {
    if ([...r.remind, ...r.escalation.flatMap((e) => e.notify)].some(isCitizenPosition))
      issue(['requests', i], 'a request is decided by the units: it addresses no citizen');
  });
  for (const p of CITIZEN_POSITIONS) {
    const keys = citizenFieldKeys(p);
    const at = (key: string) => t.openFields.findIndex((f) => f.key === key);
    const phone = at(keys.phone);
    const email = at(keys.email);
    if (phone >= 0 && t.openFields[phone]?.format !== 'mobile')
      issue(['openFields', phone, 'format'], `${keys.phone} must have format mobile`);
    if (email >= 0 && t.openFields[email]?.format !== 'email')
      issue(['openFields', email, 'format'], `${keys.email} must have format email`);
    if (!used.has(p)) continue;
    if (at(keys.name) < 0) issue(['openFields'], `addresses ${p}: needs an open field ${keys.name}`);
    if (phone < 0 && email < 0)
      issue(['openFields'], `addresses ${p}: needs an open field ${keys.phone} or ${keys.email}`);
  }
}

/** Rough ordering only (a working day counts as 1.4 calendar days); exact instants come from the planner. */
function toApproxHours(o: Offset): number {
  const perUnit = o.unit === 'minutes' ? 1 / 60 : o.unit === 'hours' ? 1 : o.unit === 'days' ? 24 : 24 * 1.4;
  return o.amount * perUnit;
}
