import { z } from 'zod';
import { evidenceSchema, idSchema } from '../core/model.ts';

/** Request bodies and parameters: the same schemas validate requests and generate /openapi.json. */
export const submissionBodySchema = z
  .object({
    unitId: idSchema,
    note: z.string().max(5_000).default(''),
    evidence: evidenceSchema.default({}),
  })
  .strict()
  .meta({
    id: 'SubmissionRequest',
    example: {
      unitId: 'town-001',
      note: '已于2月27日召开月度安全生产工作会议',
      evidence: { minutes: '会议研究了春季复工复产安全防范工作……', attendees: ['张伟', '李娜'] },
    },
  });

/** What a unit sends through its link: the unit and item come from the link itself. */
export const linkSubmissionBodySchema = z
  .object({
    note: z.string().max(5_000).default(''),
    evidence: evidenceSchema.default({}),
  })
  .strict()
  .meta({
    id: 'LinkSubmissionRequest',
    example: { note: '本周风险预判已完成', evidence: { minutes: '研判重点：节后复工' } },
  });

export const cycleParamsSchema = z
  .object({
    dutyId: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a duty id'),
    periodKey: z.string().min(4).max(10),
  })
  .strict();

/** Request bodies are limited to 1 MiB (API Gateway's own limit is 10 MB; ours is smaller on purpose). */
export const MAX_BODY_BYTES = 1024 * 1024;
