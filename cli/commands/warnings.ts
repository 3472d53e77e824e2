import { parse } from '../main.ts';
import { COMMON, call, run, target } from '../api-client.ts';
import { UsageError, type Io } from '../output.ts';

const USAGE = `用法：
  safeduty warnings issue --level red|orange|yellow|blue --title 标题 --text 预警内容 --units 单位1,单位2
        --valid-until "2023-07-06 08:00" [--issued-by 发布单位编号] [--id 预警编号] [--api 地址]
                                               发布预警：各单位主要负责人和联络人立即收到短信和邮件，须在时限内点击链接叫应
                                               （红色15分钟、橙色30分钟、黄色60分钟、蓝色120分钟），未叫应的逐级报告
  safeduty warnings list [--api 地址]           已发布的预警
  safeduty warnings show <预警编号> [--api 地址] 各单位是否叫应、何时由谁叫应、升级到第几级
  safeduty warnings lift <预警编号> [--api 地址] 解除预警（尚未叫应的单位不再提醒）`;

const LEVELS: Record<string, string> = {
  红: 'red',
  红色: 'red',
  橙: 'orange',
  橙色: 'orange',
  黄: 'yellow',
  黄色: 'yellow',
  蓝: 'blue',
  蓝色: 'blue',
};

interface WarningView {
  warningId: string;
  levelZh: string;
  title: string;
  issuedAt: string;
  respondBy: string;
  validUntil: string;
  endedAt?: string;
  counts: { units: number; responded: number; awaiting: number; notResponded: number };
  units: {
    unitName: string;
    unitId: string;
    stateZh: string;
    respondedBy?: string;
    respondedAt?: string;
    minutesToRespond?: number;
    escalationLevel: number;
    escalatedToZh: string[];
  }[];
}

const time = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** `2023-07-06 08:00` (Beijing time, as people write it) or a full ISO instant. */
function instant(text: string): string {
  const t = text.trim();
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})$/.exec(t);
  if (m) return `${m[1]}T${m[2]}:00+08:00`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)$/.test(t)) return t;
  throw new UsageError(`--valid-until 应为北京时间，如 "2023-07-06 08:00"（收到：${text}）`);
}

function show(io: Io, w: WarningView): void {
  io.out(`${w.warningId}  ${w.levelZh}：${w.title}`);
  io.out(
    `发布：${time(w.issuedAt)}；叫应时限：${time(w.respondBy)}；有效期至：${time(w.validUntil)}${w.endedAt ? `；已于 ${time(w.endedAt)} 解除` : ''}`,
  );
  io.out(
    `共 ${w.counts.units} 个单位：已叫应 ${w.counts.responded}，待叫应 ${w.counts.awaiting}，未叫应 ${w.counts.notResponded}`,
  );
  for (const u of w.units) {
    const who = u.respondedBy
      ? `（${u.respondedBy}，${time(u.respondedAt ?? '')}，用时 ${u.minutesToRespond} 分钟）`
      : '';
    const up =
      u.escalationLevel > 0 ? `；已升级至第${u.escalationLevel}级（${u.escalatedToZh.join('、')}）` : '';
    io.out(`  ${u.unitName}（${u.unitId}）：${u.stateZh}${who}${up}`);
  }
}

/** Warnings that must be answered within minutes (预警叫应), as 安委办 issues and follows them. */
export async function warningsCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    ...COMMON,
    level: { type: 'string' },
    title: { type: 'string' },
    text: { type: 'string' },
    units: { type: 'string' },
    'valid-until': { type: 'string' },
    'issued-by': { type: 'string' },
    id: { type: 'string' },
  });
  if (sub === 'issue') {
    if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}\n${USAGE}`);
    const missing = (['level', 'title', 'text', 'units', 'valid-until'] as const).filter((k) => !values[k]);
    if (missing.length > 0)
      throw new UsageError(`缺少：${missing.map((k) => `--${k}`).join('、')}\n${USAGE}`);
    const level = LEVELS[values.level ?? ''] ?? values.level;
    const units = (values.units ?? '').split(/[,，、\s]+/).filter(Boolean);
    const body = {
      level,
      title: values.title,
      text: values.text,
      units,
      validUntil: instant(values['valid-until'] ?? ''),
      ...(values['issued-by'] ? { issuedBy: values['issued-by'] } : {}),
      ...(values.id ? { warningId: values.id } : {}),
    };
    const t = target(values);
    return run(io, async () => {
      const r = await call(t, 'POST', '/warnings', { body: JSON.stringify(body), idempotent: true });
      if (values.json) return io.out(r.text);
      io.out(
        r.status === 200 ? '该预警此前已发布（未重复发送）：' : '预警已发布，各单位正在收到短信和邮件：',
      );
      show(io, r.json as unknown as WarningView);
    });
  }
  if (sub === 'list') {
    if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}\n${USAGE}`);
    const t = target(values);
    return run(io, async () => {
      const r = await call(t, 'GET', '/warnings');
      if (values.json) return io.out(r.text);
      const list = (r.json as { warnings: (Omit<WarningView, 'units' | 'counts'> & { units: number })[] })
        .warnings;
      if (list.length === 0) return io.out('尚未发布预警。');
      for (const w of list)
        io.out(
          `${w.warningId}  ${time(w.issuedAt)}  ${w.levelZh}：${w.title}（${w.units} 个单位${w.endedAt ? '，已解除' : ''}）`,
        );
    });
  }
  if (sub === 'show' || sub === 'lift') {
    const [id, ...extra] = positionals;
    if (!id || extra.length > 0)
      throw new UsageError(`请给出一个预警编号：safeduty warnings ${sub} <预警编号>\n${USAGE}`);
    const t = target(values);
    return run(io, async () => {
      const path = `/warnings/${encodeURIComponent(id)}`;
      const r =
        sub === 'show'
          ? await call(t, 'GET', path)
          : await call(t, 'POST', `${path}/lift`, { body: '{}', idempotent: true });
      if (values.json) return io.out(r.text);
      if (sub === 'lift') io.out('预警已解除，尚未叫应的单位不再提醒：');
      show(io, r.json as unknown as WarningView);
    });
  }
  throw new UsageError(sub ? `未知的子命令：warnings ${sub}\n${USAGE}` : USAGE);
}
