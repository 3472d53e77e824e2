import { z } from 'zod';
import { WARNING_LEVELS } from '../../workflows/warnings/index.ts';
import { idSchema } from './model.ts';
import { freeText, lineText } from './text.ts';

/**
 * A warning (预警) issued to units that must each answer it within minutes (叫应). The warning is the list; each
 * unit's answer, reminders and escalations are a `warning-response` case of its own (decisions.md §40).
 */
export const issueWarningBodySchema = z
  .object({
    /**
     * The caller's own id for the warning (the issuing system's number): issuing the same warning again — a retry
     * after a timeout — completes it instead of warning anyone twice.
     */
    warningId: idSchema
      .refine((s) => s.length <= 40, '最多40个字符')
      .optional()
      .meta({ example: 'qx-20230705-baoyu-red' }),
    level: z.enum(WARNING_LEVELS, {
      error: '应为 red（红色）、orange（橙色）、yellow（黄色）或 blue（蓝色）',
    }),
    title: lineText(200),
    text: freeText(2000),
    /** The units that must answer: towns, county departments or enterprises. */
    units: z.array(idSchema).min(1, '至少一个单位').max(500, '最多500个单位'),
    /** The issuing unit (a county department or the 安委办 unit); by default 安委办. */
    issuedBy: idSchema.optional(),
    /** Until when the warning is in force: a unit that has not answered by then is recorded as not answered. */
    validUntil: z.iso.datetime({ offset: true, error: '应为带时区的时间，如 2023-07-06T08:00:00+08:00' }),
  })
  .strict()
  .meta({
    id: 'IssueWarningRequest',
    example: {
      warningId: 'qx-20230705-baoyu-red',
      level: 'red',
      title: '暴雨红色预警',
      text: '县气象台发布暴雨红色预警：预计今夜至明日白天将出现大暴雨，局部特大暴雨。请立即启动防汛应急响应，做好危险区域人员转移准备。',
      units: ['town-001', 'town-002'],
      issuedBy: 'dept-emergency',
      validUntil: '2023-07-06T20:00:00+08:00',
    },
  });
export type IssueWarningBody = z.infer<typeof issueWarningBodySchema>;

export const liftWarningBodySchema = z
  .object({
    /** Why the warning is lifted (the issuing bureau's lifting notice), kept with it. */
    reason: freeText(500).optional(),
  })
  .strict()
  .meta({ id: 'LiftWarningRequest', example: { reason: '县气象台解除暴雨红色预警' } });

export const warningRecordSchema = z.object({
  warningId: z.string(),
  level: z.enum(WARNING_LEVELS),
  title: z.string(),
  text: z.string(),
  issuedBy: z.string(),
  issuedAt: z.string(),
  /** Who issued it through the API: `admin:<name>` or `integration:<client>`. */
  actor: z.string(),
  validUntil: z.string(),
  /** The acknowledgement limit: issue + the level's minutes. */
  respondBy: z.string(),
  /** Each unit and the case that tracks its answer. */
  units: z.array(z.object({ unitId: z.string(), caseId: z.string() })),
  /** `issuing` until every unit's case is open (a retry of the same warning completes it). */
  status: z.enum(['issuing', 'issued']),
  endedAt: z.string().optional(),
  endedBy: z.string().optional(),
  endedReason: z.string().optional(),
  version: z.number().int().min(1),
});
export type WarningRecord = z.infer<typeof warningRecordSchema>;
