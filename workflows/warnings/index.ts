// Warning levels and how fast each must be answered (叫应): data, validated when first read.
import { z } from 'zod';
import levelsJson from './levels.json' with { type: 'json' };

export const WARNING_LEVELS = ['red', 'orange', 'yellow', 'blue'] as const;
export type WarningLevel = (typeof WARNING_LEVELS)[number];

const levelsFileSchema = z
  .object({
    /** Where the minutes come from (a regulation, or our choice and why). */
    source: z.string().min(1),
    levels: z
      .array(
        z
          .object({
            id: z.enum(WARNING_LEVELS),
            labelZh: z.string().min(1),
            /** Minutes within which every responsible person must answer, counted from the issue. */
            ackMinutes: z.number().int().min(1).max(1440),
          })
          .strict(),
      )
      .length(WARNING_LEVELS.length),
  })
  .strict()
  .refine((f) => WARNING_LEVELS.every((id) => f.levels.some((l) => l.id === id)), 'every level once');
export type WarningLevelSpec = z.infer<typeof levelsFileSchema>['levels'][number];

let cached: Map<WarningLevel, WarningLevelSpec> | undefined;

export function warningLevels(): Map<WarningLevel, WarningLevelSpec> {
  cached ??= new Map(levelsFileSchema.parse(levelsJson).levels.map((l) => [l.id, l]));
  return cached;
}

export function warningLevel(id: WarningLevel): WarningLevelSpec {
  const spec = warningLevels().get(id);
  if (!spec) throw new Error(`unknown warning level ${id}`);
  return spec;
}
