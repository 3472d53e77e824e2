import { toShanghaiIso } from '../../workflows/calendar.ts';
import { UNIT_KIND_ZH, type UnitKind } from '../../workflows/catalog/schema.ts';
import { appendAudit } from '../adapters/audit.ts';
import { releaseAddresses } from '../adapters/outbox-store.ts';
import { getLeader, getUnit, putLeader, putUnit } from '../adapters/store.ts';
import { auditKey } from './audit-subjects.ts';
import { clock } from './clock.ts';
import { safetyOfficeUnitId } from './directory.ts';
import type { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError, fieldPath } from './errors.ts';
import { leaderSchema, unitSchema, type Leader, type Person, type Unit, type UnitRecord } from './model.ts';
import { addressKey } from '../notices/model.ts';
import { smsAddressOf } from '../notices/channels.ts';

/** Who changes the roster, and through which route: both go into the audit entry. */
export interface ChangeContext {
  actor: string;
  route: string;
}

export type SaveStatus = 'created' | 'updated' | 'unchanged';

/** Kinds that can supervise a unit (行业监管部门; 安委办 and the committee are county bodies). */
const SUPERVISOR_KINDS: readonly UnitKind[] = ['county-department', 'county-body'];
/** A site belongs to an enterprise or a town, an enterprise to a town. */
const PARENT_KINDS: readonly UnitKind[] = ['town', 'enterprise'];

export type Reference = 'parentId' | 'supervisingDepartmentId' | 'leaderInChargeId';

/**
 * What is wrong with a unit's references, given lookups of the roster as it will be: a referenced unit or
 * leader must exist, have a fitting kind, and (for an active unit) be active itself.
 */
export function referenceProblems(
  unit: Unit,
  unitOf: (id: string) => Unit | undefined,
  leaderOf: (id: string) => Leader | undefined,
): { field: Reference; problem: string }[] {
  const out: { field: Reference; problem: string }[] = [];
  if (unit.parentId !== undefined) {
    const parent = unitOf(unit.parentId);
    if (unit.parentId === unit.id) out.push({ field: 'parentId', problem: '单位不能以自己为上级单位' });
    // A county leader answers to the county's principal leader (分管县领导), not to a town or an enterprise.
    else if (unit.kind === 'county-leader')
      out.push({ field: 'parentId', problem: '县领导不填上级单位（由“分管县领导”一栏填写县主要领导）' });
    else if (!parent) out.push({ field: 'parentId', problem: `单位不存在：${unit.parentId}` });
    else if (!PARENT_KINDS.includes(parent.kind))
      out.push({
        field: 'parentId',
        problem: `上级单位应为乡镇或企业，${unit.parentId} 是${UNIT_KIND_ZH[parent.kind]}`,
      });
    else if (unit.kind === 'enterprise' && parent.kind !== 'town')
      out.push({ field: 'parentId', problem: '企业的上级单位应为乡镇' });
    else if (unit.active && !parent.active)
      out.push({ field: 'parentId', problem: `单位 ${unit.parentId} 已停用` });
  }
  if (unit.supervisingDepartmentId !== undefined) {
    const dept = unitOf(unit.supervisingDepartmentId);
    if (unit.supervisingDepartmentId === unit.id)
      out.push({ field: 'supervisingDepartmentId', problem: '单位不能以自己为主管部门' });
    else if (!dept)
      out.push({
        field: 'supervisingDepartmentId',
        problem: `单位不存在：${unit.supervisingDepartmentId}`,
      });
    else if (!SUPERVISOR_KINDS.includes(dept.kind))
      out.push({
        field: 'supervisingDepartmentId',
        problem: `主管部门应为县直部门或县级议事机构，${dept.id} 是${UNIT_KIND_ZH[dept.kind]}`,
      });
    else if (unit.active && !dept.active)
      out.push({ field: 'supervisingDepartmentId', problem: `单位 ${dept.id} 已停用` });
  }
  if (unit.leaderInChargeId !== undefined && !leaderOf(unit.leaderInChargeId))
    out.push({ field: 'leaderInChargeId', problem: `县领导不存在：${unit.leaderInChargeId}` });
  return out;
}

/** JSON with sorted keys: two records are the same when their canonical forms are. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/** The top-level fields whose values differ (for the audit entry). */
export function changedFields(before: object, after: object): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => canonical(a[k]) !== canonical(b[k])).sort();
}

/** A unit as the roster defines it: without what the system keeps about it (when it joined). */
export function unitOnly(record: UnitRecord): Unit {
  const { joinedAt: _joinedAt, ...unit } = record;
  return unit;
}

/**
 * The record to store for a unit: it joins the roster (for the fair start: no escalation for deadlines before
 * it joined) when first saved, and again when an inactive unit becomes active; otherwise it keeps its date.
 */
export function rosterEntry(unit: Unit, existing: UnitRecord | undefined, now: string): UnitRecord {
  const joins = !existing || (!existing.active && unit.active);
  const joinedAt = joins ? now : existing.joinedAt;
  return { ...unit, ...(joinedAt !== undefined ? { joinedAt } : {}) };
}

/** Where a person is sent to: their email, and their mobile's text-message address when they have one. */
export function personAddresses(p: Person): string[] {
  const sms = p.phone ? smsAddressOf(p.phone) : undefined;
  return sms ? [p.email, sms] : [p.email];
}

/** The addresses mail (and text messages) for a unit go to. */
export function unitAddresses(unit: Unit): string[] {
  return [unit.contact, unit.principal, unit.staffRepresentative].flatMap((p) =>
    p ? personAddresses(p) : [],
  );
}

/** Saving a roster entry confirms its addresses: any refused before get mail again, with an audit entry. */
export async function releaseChecked(
  addresses: string[],
  subject: string,
  ctx: ChangeContext,
): Promise<void> {
  const released = await releaseAddresses(addresses);
  if (released.length === 0) return;
  await appendAudit({
    subject,
    at: nowIso(),
    actor: ctx.actor,
    action: 'addresses-released',
    route: ctx.route,
    details: { addresses: released },
  });
}

function nowIso(): string {
  return toShanghaiIso(clock.now());
}

function idMismatch(bodyId: string | undefined, pathId: string): void {
  if (bodyId !== undefined && bodyId !== pathId)
    throw new ValidationError('id in the body differs from the path', '请求体中的 id 与地址中的不一致', [
      { field: 'id', problem: `应与地址中的编号 ${pathId} 一致，或不填` },
    ]);
}

/**
 * Creates or replaces a unit. References are checked against the stored roster before anything is written;
 * an unchanged unit is not written again and leaves no audit entry.
 */
export async function saveUnit(
  pathId: string,
  body: Omit<Unit, 'id'> & { id?: string | undefined },
  ctx: ChangeContext,
  options: { releaseChangedOnly?: boolean } = {},
): Promise<{ status: SaveStatus; unit: Unit }> {
  idMismatch(body.id, pathId);
  const unit: Unit = { ...body, id: pathId };
  const refIds = [unit.parentId, unit.supervisingDepartmentId].filter((x): x is string => x !== undefined);
  const [existing, refs, leader] = await Promise.all([
    getUnit(pathId),
    Promise.all(refIds.map((id) => getUnit(id))),
    unit.leaderInChargeId ? getLeader(unit.leaderInChargeId) : Promise.resolve(undefined),
  ]);
  const units = new Map(refs.filter((u): u is Unit => u !== undefined).map((u) => [u.id, u]));
  const problems = referenceProblems(
    unit,
    (id) => units.get(id),
    (id) => (leader?.id === id ? leader : undefined),
  );
  if (problems.length > 0)
    throw new ValidationError(
      'unit references do not resolve',
      '单位信息有误：引用的单位或县领导不存在或不适用',
      problems,
    );
  if (existing && existing.id === safetyOfficeUnitId() && !unit.active) throw safetyOfficeConflict();
  // A whole entry saved confirms every address in it; a partial change confirms only the addresses it changed.
  const before = existing ? new Set(unitAddresses(existing).map(addressKey)) : new Set<string>();
  const confirmed = options.releaseChangedOnly
    ? unitAddresses(unit).filter((a) => !before.has(addressKey(a)))
    : unitAddresses(unit);
  await releaseChecked(confirmed, auditKey({ kind: 'unit', id: unit.id }), ctx);
  if (existing && canonical(unitOnly(existing)) === canonical(unit))
    return { status: 'unchanged', unit: unitOnly(existing) };
  await putUnit(rosterEntry(unit, existing, nowIso()));
  await appendAudit({
    subject: auditKey({ kind: 'unit', id: unit.id }),
    at: nowIso(),
    actor: ctx.actor,
    action: existing ? 'unit-updated' : 'unit-created',
    route: ctx.route,
    details: existing ? { changed: changedFields(unitOnly(existing), unit) } : { kind: unit.kind },
  });
  return { status: existing ? 'updated' : 'created', unit };
}

function safetyOfficeConflict(): ConflictError {
  return new ConflictError(
    'the safety office cannot be deactivated',
    '县安委办是所有督办的最后一级，不能停用',
    [{ field: 'id', problem: '县安委办（每级督办的最后一环）不能停用' }],
  );
}

/**
 * A JSON merge patch (RFC 7396) applied to a stored entry: objects merge, `null` removes, anything else replaces.
 * The result is checked whole by the caller, with the same rules as a full write.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Changes some fields of a unit: the merged unit is checked and saved as a PUT would be. */
export async function patchUnit(
  id: string,
  patch: object,
  ctx: ChangeContext,
): Promise<{ status: SaveStatus; unit: Unit }> {
  const existing = await requireUnit(id);
  const merged = unitSchema.safeParse(mergePatch(unitOnly(existing), patch));
  if (!merged.success) throw patchRejected(merged.error);
  return saveUnit(id, merged.data, ctx, { releaseChangedOnly: true });
}

/** Changes a leader's title or holder (or some of the holder's fields). */
export async function patchLeader(
  id: string,
  patch: object,
  ctx: ChangeContext,
): Promise<{ status: SaveStatus; leader: Leader }> {
  const existing = await requireLeader(id);
  const merged = leaderSchema.safeParse(mergePatch(existing, patch));
  if (!merged.success) throw patchRejected(merged.error);
  return saveLeader(id, merged.data, ctx, { releaseChangedOnly: true });
}

function patchRejected(error: z.ZodError): ValidationError {
  return new ValidationError(
    'patched entry is invalid',
    '修改后的记录不完整或有误',
    error.issues.map((i) => ({ field: fieldPath(i.path), problem: i.message })),
  );
}

/** Deactivates a unit: it leaves every roster from the next sweep on, and its records and history stay. */
export async function deactivateUnit(
  id: string,
  ctx: ChangeContext,
): Promise<{ status: SaveStatus; unit: Unit }> {
  const existing = await getUnit(id);
  if (!existing)
    throw new NotFoundError(`unknown unit ${id}`, `单位不存在：${id}`, [
      { field: 'id', problem: '单位不存在' },
    ]);
  if (!existing.active) return { status: 'unchanged', unit: unitOnly(existing) };
  if (existing.id === safetyOfficeUnitId()) throw safetyOfficeConflict();
  const unit: Unit = { ...unitOnly(existing), active: false };
  await putUnit(rosterEntry(unit, existing, nowIso()));
  await appendAudit({
    subject: auditKey({ kind: 'unit', id }),
    at: nowIso(),
    actor: ctx.actor,
    action: 'unit-deactivated',
    route: ctx.route,
  });
  return { status: 'updated', unit };
}

export async function requireUnit(id: string): Promise<Unit> {
  const unit = await getUnit(id);
  if (!unit)
    throw new NotFoundError(`unknown unit ${id}`, `单位不存在：${id}`, [
      { field: 'id', problem: '单位不存在' },
    ]);
  return unit;
}

export async function requireLeader(id: string): Promise<Leader> {
  const leader = await getLeader(id);
  if (!leader)
    throw new NotFoundError(`unknown leader ${id}`, `县领导不存在：${id}`, [
      { field: 'id', problem: '县领导不存在' },
    ]);
  return leader;
}

/** Creates or replaces a county leader record (分管县领导): the position, and who holds it now. */
export async function saveLeader(
  pathId: string,
  body: Omit<Leader, 'id'> & { id?: string | undefined },
  ctx: ChangeContext,
  options: { releaseChangedOnly?: boolean } = {},
): Promise<{ status: SaveStatus; leader: Leader }> {
  idMismatch(body.id, pathId);
  const leader: Leader = { ...body, id: pathId };
  const existing = await getLeader(pathId);
  const changedAddress =
    !existing ||
    personAddresses(existing.holder).map(addressKey).join() !==
      personAddresses(leader.holder).map(addressKey).join();
  if (!options.releaseChangedOnly || changedAddress)
    await releaseChecked(personAddresses(leader.holder), auditKey({ kind: 'leader', id: leader.id }), ctx);
  if (existing && canonical(existing) === canonical(leader)) return { status: 'unchanged', leader: existing };
  await putLeader(leader);
  await appendAudit({
    subject: auditKey({ kind: 'leader', id: leader.id }),
    at: nowIso(),
    actor: ctx.actor,
    action: existing ? 'leader-updated' : 'leader-created',
    route: ctx.route,
    ...(existing ? { details: { changed: changedFields(existing, leader) } } : {}),
  });
  return { status: existing ? 'updated' : 'created', leader };
}

/** The positions of a unit or leader whose address cannot be delivered to (the API shows them on the roster). */
export const POSITION_KEYS = ['contact', 'principal', 'staffRepresentative', 'holder'] as const;
export type PositionKey = (typeof POSITION_KEYS)[number];

export interface UndeliverableMark {
  position: PositionKey;
  address: string;
  reasonZh: string;
  since: string;
}

/**
 * The marks of one roster entry's people, given the undeliverable addresses (keyed by their normalized form).
 * An address is unmarked when the entry is saved with it again (roster-import/saveUnit release it).
 */
export function undeliverableMarks(
  people: Partial<Record<PositionKey, { email: string } | undefined>>,
  known: ReadonlyMap<string, { reasonZh: string; since: string }>,
): UndeliverableMark[] {
  return POSITION_KEYS.flatMap((position) => {
    const person = people[position];
    const mark = person && known.get(addressKey(person.email));
    return person && mark ? [{ position, address: person.email, ...mark }] : [];
  });
}
