import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UNIT_KIND_CHOICES_ZH, UNIT_KIND_ZH, unitKindOf } from '../../workflows/catalog/schema.ts';
import type { Leader, Person, Unit } from '../../functions/core/model.ts';
import { parse } from '../main.ts';
import { COMMON, call, callAllPages, run, target } from '../api-client.ts';
import { UsageError, fileProblemZh, type Io } from '../output.ts';
import { POSITION_ZH, attributesOf } from '../../functions/core/roster-model.ts';

/*
 * One unit or leader at a time: show, add, edit (only the fields given), deactivate, export. Every change goes
 * through the API, which checks it as it checks any other write; nothing here repeats a rule.
 */

export { POSITION_ZH };

type Marked<T> = T & {
  undeliverable?: { position: keyof typeof POSITION_ZH; address: string; reasonZh: string; since: string }[];
};

const personZh = (p: Person) => `${p.name} <${p.email}>${p.phone ? ` 电话 ${p.phone}` : ''}`;

/** The person options of `units add|edit`: `--contact-name` and so on, for each position. */
const PERSON_OPTIONS = {
  'contact-name': { type: 'string' },
  'contact-email': { type: 'string' },
  'contact-phone': { type: 'string' },
  'principal-name': { type: 'string' },
  'principal-email': { type: 'string' },
  'principal-phone': { type: 'string' },
  'staff-name': { type: 'string' },
  'staff-email': { type: 'string' },
} as const;
const UNIT_OPTIONS = {
  ...COMMON,
  ...PERSON_OPTIONS,
  name: { type: 'string' },
  kind: { type: 'string' },
  parent: { type: 'string' },
  department: { type: 'string' },
  leader: { type: 'string' },
  attributes: { type: 'string' },
} as const;

export const UNITS_ONE_USAGE = [
  'safeduty units show <单位编号>',
  'safeduty units add <单位编号> --name 名称 --kind 企业 [--parent 上级单位] [--department 主管部门] [--leader 分管县领导]',
  '    --contact-name 姓名 --contact-email 邮箱 [--contact-phone 电话] --principal-name 姓名 --principal-email 邮箱 …',
  'safeduty units edit <单位编号> [--contact-email 新邮箱] [--name …] [--parent ""（清空）] [--attributes 燃气、县属监管企业] [--activate] …（只改给出的项）',
  'safeduty units deactivate <单位编号>',
  'safeduty units export [--xlsx] [--out 文件]   导出名册（可直接修改后再导入）',
].join('\n');

type UnitValues = ReturnType<typeof parse<typeof UNIT_OPTIONS>>['values'];

/** The unit fields the options give, as a merge patch: an empty value clears an optional reference. */
function unitPatch(values: UnitValues): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (values.name !== undefined) patch.name = values.name;
  if (values.kind !== undefined) {
    const kind = unitKindOf(values.kind);
    if (!kind) throw new UsageError(`--kind 中的“${values.kind}”不是单位类型，应为：${UNIT_KIND_CHOICES_ZH}`);
    patch.kind = kind;
  }
  const ref = (v: string | undefined) => (v === undefined ? undefined : v === '' ? null : v);
  for (const [option, field] of [
    ['parent', 'parentId'],
    ['department', 'supervisingDepartmentId'],
    ['leader', 'leaderInChargeId'],
  ] as const) {
    const v = ref(values[option]);
    if (v !== undefined) patch[field] = v;
  }
  if (values.attributes !== undefined) {
    const list = attributesOf(values.attributes);
    patch.attributes = list.length > 0 ? list : null;
  }
  for (const [prefix, position] of [
    ['contact', 'contact'],
    ['principal', 'principal'],
    ['staff', 'staffRepresentative'],
  ] as const) {
    const person: Record<string, unknown> = {};
    const name = values[`${prefix}-name` as keyof UnitValues] as string | undefined;
    const email = values[`${prefix}-email` as keyof UnitValues] as string | undefined;
    const phone =
      prefix === 'staff' ? undefined : (values[`${prefix}-phone` as keyof UnitValues] as string | undefined);
    // `--staff-name "" --staff-email ""`: the staff representative is removed.
    if (prefix === 'staff' && name === '' && email === '') {
      patch[position] = null;
      continue;
    }
    if (name !== undefined) person.name = name;
    if (email !== undefined) person.email = email;
    if (phone !== undefined) person.phone = phone === '' ? null : phone;
    if (Object.keys(person).length > 0) patch[position] = person;
  }
  return patch;
}

function showUnit(u: Marked<Unit>, io: Io): void {
  io.out(`${u.name}（${u.id}）  ${UNIT_KIND_ZH[u.kind] ?? u.kind}${u.active ? '' : '  [已停用]'}`);
  if (u.parentId) io.out(`  上级单位：${u.parentId}`);
  if (u.supervisingDepartmentId) io.out(`  主管部门：${u.supervisingDepartmentId}`);
  if (u.leaderInChargeId) io.out(`  分管县领导：${u.leaderInChargeId}`);
  if (u.attributes?.length) io.out(`  单位属性：${u.attributes.join('、')}`);
  io.out(`  联络员：${personZh(u.contact)}`);
  io.out(`  主要负责人：${personZh(u.principal)}`);
  if (u.staffRepresentative) io.out(`  职工代表：${personZh(u.staffRepresentative)}`);
  for (const m of u.undeliverable ?? [])
    io.out(
      `  [无法送达] ${POSITION_ZH[m.position] ?? m.position} ${m.address}：${m.reasonZh}（自 ${m.since}）`,
    );
}

const unitPath = (id: string) => `/units/${encodeURIComponent(id)}`;

function oneId(positionals: string[], usage: string): string {
  const [id, ...extra] = positionals;
  if (!id) throw new UsageError(`缺少单位编号。用法：${usage}`);
  if (extra.length > 0) throw new UsageError(`多余的参数：${extra.join(' ')}`);
  return id;
}

export async function unitsShow(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, COMMON);
  const id = oneId(positionals, 'safeduty units show <单位编号>');
  const t = target(values);
  return run(io, async () => {
    const r = await call(t, 'GET', unitPath(id));
    if (values.json) return io.out(r.text);
    showUnit(r.json as Marked<Unit>, io);
  });
}

export async function unitsAdd(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, UNIT_OPTIONS);
  const id = oneId(positionals, 'safeduty units add <单位编号> --name 名称 --kind 类型 …');
  const patch = unitPatch(values);
  const missing = [
    ['name', '--name'],
    ['kind', '--kind'],
  ]
    .filter(([f]) => patch[f as string] === undefined)
    .map(([, o]) => o);
  for (const p of ['contact', 'principal'])
    for (const f of ['name', 'email'])
      if ((patch[p] as Record<string, unknown> | undefined)?.[f] === undefined) missing.push(`--${p}-${f}`);
  if (missing.length > 0) throw new UsageError(`新增单位还缺少：${missing.join('、')}`);
  for (const [k, v] of Object.entries(patch)) if (v === null) delete patch[k];
  const t = target(values);
  return run(io, async () => {
    const exists = await call(t, 'GET', unitPath(id)).then(
      () => true,
      () => false,
    );
    if (exists) throw new UsageError(`单位 ${id} 已存在；修改请用 safeduty units edit ${id} …`);
    const r = await call(t, 'PUT', unitPath(id), { body: JSON.stringify(patch), idempotent: true });
    if (values.json) return io.out(r.text);
    io.out(`已新增单位：`);
    showUnit(r.json as Unit, io);
  });
}

export async function unitsEdit(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...UNIT_OPTIONS,
    activate: { type: 'boolean' },
  });
  const id = oneId(positionals, 'safeduty units edit <单位编号> [--contact-email 新邮箱] …');
  const patch = unitPatch(values);
  if (values.activate) patch.active = true;
  if (Object.keys(patch).length === 0)
    throw new UsageError(
      '没有要修改的内容：请给出要改的项，例如 --contact-email 新邮箱（停用请用 units deactivate）',
    );
  const t = target(values);
  return run(io, async () => {
    const r = await call(t, 'PATCH', unitPath(id), { body: JSON.stringify(patch), idempotent: true });
    if (values.json) return io.out(r.text);
    io.out('已保存：');
    showUnit(r.json as Marked<Unit>, io);
  });
}

export async function unitsDeactivate(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, COMMON);
  const id = oneId(positionals, 'safeduty units deactivate <单位编号>');
  const t = target(values);
  return run(io, async () => {
    const r = await call(t, 'DELETE', unitPath(id), { idempotent: true });
    if (values.json) return io.out(r.text);
    const u = r.json as Unit;
    io.out(
      `已停用 ${u.name}（${u.id}）：下一次提醒起不再列入名册，历史记录保留。恢复：safeduty units edit ${u.id} --activate`,
    );
  });
}

export async function unitsExport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    xlsx: { type: 'boolean' },
    out: { type: 'string' },
    all: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  if (values.xlsx && !values.out)
    throw new UsageError('Excel 文件需要写入文件：加 --out 名册.xlsx（CSV 可直接重定向到文件）');
  const t = target(values);
  return run(io, async () => {
    const q = new URLSearchParams({ format: values.xlsx ? 'xlsx' : 'csv' });
    if (values.all) q.set('includeInactive', 'true');
    const r = await call(t, 'GET', `/units?${q}`);
    if (!values.out) return io.out(r.text.replace(/\r\n$/, ''));
    saveDownload(values.out, r.bytes, io, '名册');
  });
}

/** Writes a downloaded file (a workbook, a CSV) where the user asked, and says so. */
export function saveDownload(path: string, bytes: Uint8Array, io: Io, what: string): void {
  try {
    writeFileSync(resolve(path), bytes);
  } catch (err) {
    throw new UsageError(`无法写入 ${path}：${fileProblemZh(err)}`);
  }
  io.out(`${what}已导出到 ${path}`);
}

// ---------------------------------------------------------------- leaders

const LEADER_USAGE = [
  'safeduty leaders list',
  'safeduty leaders show <领导编号>',
  'safeduty leaders edit <领导编号> [--title 职务] [--name 姓名] [--email 邮箱] [--phone 电话]',
].join('\n');

function showLeader(l: Marked<Leader>, io: Io): void {
  io.out(`${l.titleZh}（${l.id}）：${personZh(l.holder)}`);
  for (const m of l.undeliverable ?? []) io.out(`  [无法送达] ${m.address}：${m.reasonZh}（自 ${m.since}）`);
}

export async function leadersCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    ...COMMON,
    title: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    phone: { type: 'string' },
  });
  const t = target(values);
  const path = (id: string) => `/leaders/${encodeURIComponent(id)}`;
  if (sub === 'list') {
    if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
    return run(io, async () => {
      const { items } = await callAllPages(t, '/leaders', 'leaders');
      if (values.json) return io.out(JSON.stringify({ count: items.length, leaders: items }));
      io.out(`共 ${items.length} 位县领导：`);
      for (const l of items as Marked<Leader>[]) showLeader(l, { ...io, out: (s) => io.out(`  ${s}`) });
    });
  }
  if (sub === 'show' || sub === 'edit') {
    const [id, ...extra] = positionals;
    if (!id || extra.length > 0) throw new UsageError(`用法：\n${LEADER_USAGE}`);
    if (sub === 'show')
      return run(io, async () => {
        const r = await call(t, 'GET', path(id));
        return values.json ? io.out(r.text) : showLeader(r.json as Marked<Leader>, io);
      });
    const holder: Record<string, unknown> = {};
    if (values.name !== undefined) holder.name = values.name;
    if (values.email !== undefined) holder.email = values.email;
    if (values.phone !== undefined) holder.phone = values.phone === '' ? null : values.phone;
    const patch: Record<string, unknown> = {};
    if (values.title !== undefined) patch.titleZh = values.title;
    if (Object.keys(holder).length > 0) patch.holder = holder;
    if (Object.keys(patch).length === 0)
      throw new UsageError('没有要修改的内容：请给出 --title、--name、--email 或 --phone');
    return run(io, async () => {
      const r = await call(t, 'PATCH', path(id), { body: JSON.stringify(patch), idempotent: true });
      if (values.json) return io.out(r.text);
      io.out('已保存：');
      showLeader(r.json as Marked<Leader>, io);
    });
  }
  throw new UsageError(`用法：\n${LEADER_USAGE}`);
}
