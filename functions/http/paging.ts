import { z } from 'zod';
import { ValidationError } from '../core/errors.ts';

/**
 * Cursor paging for list routes: a stable order (a sort key per item, compared as code points), `limit` items a page
 * (default 200, at most 1000), and `next`, the cursor of the page after (null on the last page). The cursor is the
 * last item's sort key, so a page is what comes after it even when items were added or removed meanwhile. A city's
 * 16,000 units are 80 pages of 200, each far under Lambda's 6 MB response limit.
 */
export const PAGE_DEFAULT = 200;
export const PAGE_MAX = 1000;

export const pagingQuery = {
  limit: z
    .string()
    .regex(/^\d{1,4}$/, `应为1至${PAGE_MAX}的整数`)
    .optional()
    .meta({ description: `items a page (default ${PAGE_DEFAULT}, at most ${PAGE_MAX})` }),
  cursor: z.string().max(2000).optional().meta({ description: 'the `next` of the previous page' }),
};

export interface Page<T> {
  items: T[];
  /** Items in the whole listing (every page). */
  total: number;
  next: string | null;
}

function badCursor(): ValidationError {
  return new ValidationError('bad cursor', '翻页参数 cursor 无效，请从第一页重新查询', [
    { field: 'cursor', problem: '应为上一页返回的 next' },
  ]);
}

/** The page size a query asks for (default and bounds as above); a Chinese 400 otherwise. */
export function pageLimit(q: { limit?: string | undefined }): number {
  const limit = q.limit === undefined ? PAGE_DEFAULT : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX)
    throw new ValidationError('bad limit', `每页条数 limit 应为 1 到 ${PAGE_MAX}`, [
      { field: 'limit', problem: `应为1至${PAGE_MAX}` },
    ]);
  return limit;
}

/** The sort key a cursor continues after; a Chinese 400 for anything that is not one of ours. */
export function cursorKey(q: { cursor?: string | undefined }): string | undefined {
  if (q.cursor === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8'));
    if (!v || typeof v !== 'object' || typeof (v as { k?: unknown }).k !== 'string') throw badCursor();
    return (v as { k: string }).k;
  } catch {
    throw badCursor();
  }
}

export function cursorOf(key: string): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

export function pageOf<T>(
  all: readonly T[],
  keyOf: (item: T) => string,
  q: { limit?: string | undefined; cursor?: string | undefined },
): Page<T> {
  const limit = pageLimit(q);
  const after = cursorKey(q);
  const keyed = all.map((item) => ({ key: keyOf(item), item }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rest = after === undefined ? keyed : keyed.filter((k) => k.key > after);
  const items = rest.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map((k) => k.item),
    total: all.length,
    next: rest.length > limit && last ? cursorOf(last.key) : null,
  };
}
