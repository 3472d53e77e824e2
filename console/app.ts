// The administrators' console: a page of plain TypeScript over the HTTP API. Every rule stays in the API; the
// console shows what the API answers, in Chinese, and sends what the administrator enters.
import type { Overview, Tally, CycleStanding as Standing } from '../functions/core/overview-model.ts';
import {
  POSITION_ZH,
  ROSTER_FIELD_ZH,
  attributesOf,
  type ImportSummary,
} from '../functions/core/roster-model.ts';
import { UNIT_KINDS, UNIT_KIND_ZH, type UnitKind } from '../workflows/catalog/unit-kinds.ts';
import { dateLabel, minuteLabel } from '../functions/core/labels.ts';

// ---------------------------------------------------------------- HTML

/** Text made safe for HTML; `Raw` passes through (markup this file built). */
class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}
type Part = Raw | string | number | null | undefined | false | readonly Part[];

const escapeText = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function part(v: Part): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return (v as readonly Part[]).map(part).join('');
  return escapeText(String(v));
}

/** A tagged template: interpolated values are escaped unless they are markup built here. */
function h(strings: TemplateStringsArray, ...values: Part[]): Raw {
  return new Raw(strings.reduce((out, s, i) => out + s + (i < values.length ? part(values[i]) : ''), ''));
}

const main = () => document.getElementById('main') as HTMLElement;
const render = (content: Raw) => {
  main().innerHTML = content.html;
};

// ---------------------------------------------------------------- the API

interface Issue {
  field: string;
  problem: string;
  row?: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly messageZh: string,
    readonly issues: Issue[],
  ) {
    super(messageZh);
  }
}

interface ConsoleConfig {
  signIn: 'token' | 'cognito';
  local: boolean;
  cognito?: { domain: string; clientId: string };
}

let config: ConsoleConfig = { signIn: 'token', local: true };
const TOKEN_KEY = 'safeduty.console.token';
const token = () => sessionStorage.getItem(TOKEN_KEY);

async function request(
  method: string,
  path: string,
  body?: { json?: unknown; bytes?: Blob | ArrayBuffer; type?: string },
): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token() ?? ''}` };
  let payload: BodyInit | undefined;
  if (body?.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body?.bytes !== undefined) {
    headers['content-type'] = body.type ?? 'application/octet-stream';
    payload = body.bytes;
  }
  // Retry-safe writes: the API records a write once per key, whatever happens to the answer.
  if (method !== 'GET') headers['idempotency-key'] = crypto.randomUUID();
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  } catch {
    throw new ApiError(0, '无法连接服务器，请检查网络后重试', []);
  }
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn('登录已失效，请重新登录');
    throw new ApiError(401, '登录已失效，请重新登录', []);
  }
  if (!res.ok) {
    let answer: { message?: string; issues?: Issue[] } = {};
    try {
      answer = (await res.json()) as typeof answer;
    } catch {
      // An answer that is not JSON (a proxy's error page): the status says enough.
    }
    throw new ApiError(res.status, answer.message ?? `请求失败（HTTP ${res.status}）`, answer.issues ?? []);
  }
  return res;
}

async function api<T>(method: string, path: string, json?: unknown): Promise<T> {
  const res = await request(method, path, json === undefined ? undefined : { json });
  return (await res.json()) as T;
}

/** Every page of a listing. */
async function all<T>(path: string, key: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: Record<string, unknown> = await api<Record<string, unknown>>(
      'GET',
      `${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    out.push(...((page[key] as T[] | undefined) ?? []));
    cursor = (page.next as string | null | undefined) ?? null;
  } while (cursor);
  return out;
}

/** A file the API produces (CSV, workbook), saved by the browser under the name the API gives it. */
async function download(path: string, fallbackName: string): Promise<void> {
  const res = await request('GET', path);
  const disposition = res.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  const name = star ? decodeURIComponent(star) : fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function problemBox(err: unknown, labels: Record<string, string> = {}): Raw {
  const fieldZh = (f: string) => {
    // The unit form's rows of the 专项工作 page: form.fields.0.labelZh → 报送表第1项名称.
    const row = /^form\.fields\.(\d+)\.(\w+)$/.exec(f);
    if (row) return `报送表第${Number(row[1]) + 1}项${row[2] === 'labelZh' ? '名称' : ''}`;
    return labels[f] ?? FIELD_ZH[f] ?? f;
  };
  if (err instanceof ApiError)
    return h`<div class="notice error" role="alert"><strong>${err.messageZh}</strong>${
      err.issues.length > 0
        ? h`<ul>${err.issues.map(
            (i) =>
              h`<li>${i.row !== undefined ? `第 ${i.row} 行 ` : ''}${fieldZh(i.field)}：${i.problem}</li>`,
          )}</ul>`
        : ''
    }</div>`;
  return h`<div class="notice error" role="alert">出错了：${String(err)}</div>`;
}

// ---------------------------------------------------------------- words

const FIELD_ZH: Record<string, string> = {
  ...ROSTER_FIELD_ZH,
  'contact.name': '联络员姓名',
  'contact.email': '联络员邮箱',
  'contact.phone': '联络员电话',
  'principal.name': '主要负责人姓名',
  'principal.email': '主要负责人邮箱',
  'principal.phone': '主要负责人电话',
  'holder.name': '姓名',
  'holder.email': '邮箱',
  'holder.phone': '电话',
  title: '案件名称',
  responsibleUnitId: '责任单位',
  supervisingUnitId: '监管部门',
  'term.until': '整改期限',
  '(body)': '内容',
  '(file)': '文件',
};
const fieldZh = (f: string) => FIELD_ZH[f] ?? f;
const positionZh = (p: string) => POSITION_ZH[p as keyof typeof POSITION_ZH] ?? p;
const kindZh = (k: string) => UNIT_KIND_ZH[k as UnitKind] ?? k;
const levelZh = (n: number) => (n === 0 ? '尚未督办' : `第${n}级督办`);
const pct = (r: number | null | undefined) =>
  r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)}%`;
const STATE_ZH: Record<string, Raw> = {
  submitted: h`<span class="pill good">按时完成</span>`,
  late: h`<span class="pill warn">逾期补报</span>`,
  missing: h`<span class="pill bad">未报</span>`,
};
const CYCLE_STATUS_ZH: Record<string, string> = {
  open: '进行中',
  closed: '已截止',
  failed: '出错',
  cancelled: '已取消',
};
const DELIVERY_STATUS_ZH: Record<string, string> = { sent: '已发送', failed: '未送达', suppressed: '未发送' };

/** `2023-03-04T18:00:00+08:00` → `2023年3月4日 18:00` (the API's times are Asia/Shanghai). */
function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return /^\d{4}-\d{2}-\d{2}$/.test(iso) ? dateLabel(iso) : minuteLabel(iso);
}

// ---------------------------------------------------------------- sign-in

function showSignIn(message?: string): void {
  (document.getElementById('nav') as HTMLElement).hidden = true;
  (document.getElementById('who') as HTMLElement).textContent = '';
  if (config.signIn === 'cognito') {
    render(h`<div class="signin"><h1>管理员登录</h1>
      ${message ? h`<div class="notice error">${message}</div>` : ''}
      <p>使用县安委办管理员账号登录（账号由系统管理员在用户池中开通，按要求完成多因素验证）。</p>
      <p><button id="signin">登录</button></p></div>`);
    document.getElementById('signin')?.addEventListener('click', () => void cognitoSignIn());
    return;
  }
  render(h`<form class="signin" id="signin"><h1>管理员登录</h1>
    ${message ? h`<div class="notice error">${message}</div>` : ''}
    <p class="muted">本地运行时，管理员令牌在 <code>npm start</code> 的启动信息中，也保存在数据目录的 admin-token 文件里。</p>
    <label>管理员令牌<input name="token" type="password" autocomplete="current-password" required></label>
    <p><button type="submit">登录</button></p></form>`);
  document.getElementById('signin')?.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = new FormData(e.target as HTMLFormElement).get('token');
    void signInWith(String(value ?? '').trim());
  });
}

async function signInWith(value: string): Promise<void> {
  sessionStorage.setItem(TOKEN_KEY, value);
  try {
    await api('GET', '/units?limit=1');
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) showSignIn(String((err as Error).message));
    else showSignIn('令牌不正确，请重新输入');
    return;
  }
  signedIn();
}

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

const redirectUri = () => `${location.origin}/console`;

/** The Cognito hosted UI, with PKCE: the code comes back to /console/ and is exchanged here. */
async function cognitoSignIn(): Promise<void> {
  const c = config.cognito;
  if (!c) return;
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem('safeduty.console.pkce', JSON.stringify({ verifier, state }));
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: c.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    // The managed login pages in Simplified Chinese.
    lang: 'zh-CN',
  });
  location.assign(`https://${c.domain}/oauth2/authorize?${q}`);
}

async function finishCognitoSignIn(code: string, state: string | null): Promise<boolean> {
  const c = config.cognito;
  const saved = JSON.parse(sessionStorage.getItem('safeduty.console.pkce') ?? 'null') as {
    verifier: string;
    state: string;
  } | null;
  history.replaceState(null, '', '/console#/overview');
  if (!c || !saved || saved.state !== state) return false;
  const res = await fetch(`https://${c.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: c.clientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: saved.verifier,
    }),
  });
  sessionStorage.removeItem('safeduty.console.pkce');
  if (!res.ok) return false;
  const tokens = (await res.json()) as { id_token?: string };
  if (!tokens.id_token) return false;
  sessionStorage.setItem(TOKEN_KEY, tokens.id_token);
  return true;
}

function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  if (config.signIn === 'cognito' && config.cognito) {
    const q = new URLSearchParams({ client_id: config.cognito.clientId, logout_uri: redirectUri() });
    location.assign(`https://${config.cognito.domain}/logout?${q}`);
    return;
  }
  showSignIn('已退出登录');
}

function signedIn(): void {
  (document.getElementById('nav') as HTMLElement).hidden = false;
  (document.getElementById('nav-mail') as HTMLElement).hidden = !config.local;
  const who = document.getElementById('who') as HTMLElement;
  who.innerHTML =
    h`${config.local ? '本地运行' : '已登录'}<button class="secondary" id="signout">退出</button>`.html;
  document.getElementById('signout')?.addEventListener('click', signOut);
  if (!location.hash || location.hash === '#') location.hash = '#/overview';
  else void route();
}

/** A filter form: on submit, its non-empty fields become the view's query, so the address can be kept and shared. */
function filtersToHash(formId: string, view: string): void {
  const form = document.getElementById(formId) as HTMLFormElement;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) next.set(k, String(v).trim());
    location.hash = `${view}${next.size ? `?${next}` : ''}`;
  });
}

// ---------------------------------------------------------------- shared lookups

interface Unit {
  id: string;
  name: string;
  kind: string;
  parentId?: string;
  supervisingDepartmentId?: string;
  leaderInChargeId?: string;
  contact: Person;
  principal: Person;
  staffRepresentative?: Person;
  active: boolean;
  attributes?: string[];
  undeliverable?: { position: string; address: string; reasonZh: string; since: string }[];
}
interface Person {
  name: string;
  email: string;
  phone?: string;
}
interface Leader {
  id: string;
  titleZh: string;
  holder: Person;
  undeliverable?: Unit['undeliverable'];
}
interface Duty {
  id: string;
  titleZh: string;
  currentPeriodKey?: string;
  form?: { fields: { key: string; labelZh: string }[] };
}

let unitsCache: Promise<Unit[]> | undefined;
const units = () => (unitsCache ??= all<Unit>('/units?includeInactive=true', 'units'));
let dutiesCache: Promise<Duty[]> | undefined;
const duties = () => (dutiesCache ??= api<{ duties: Duty[] }>('GET', '/duties').then((r) => r.duties));
const forgetRoster = () => {
  unitsCache = undefined;
};

const options = (items: { value: string; label: string }[], selected?: string | null, blank = '全部') =>
  h`<option value="">${blank}</option>${items.map(
    (i) =>
      h`<option value="${i.value}"${i.value === selected ? new Raw(' selected') : ''}>${i.label}</option>`,
  )}`;

// ---------------------------------------------------------------- 总览

function trendChart(trend: Overview['trend']): Raw {
  const w = 640;
  const hgt = 220;
  const pad = { l: 44, r: 12, t: 16, b: 44 };
  const bw = (w - pad.l - pad.r) / trend.length;
  const y = (rate: number) => pad.t + (1 - rate) * (hgt - pad.t - pad.b);
  const bars = trend.map((t, i) => {
    const x = pad.l + i * bw + bw * 0.15;
    const rate = t.onTimeRate;
    const label = `${Number(t.start.slice(5, 7))}/${Number(t.start.slice(8))}`;
    return h`<g data-week="${t.week}">
      ${rate === null ? '' : h`<rect x="${x}" y="${y(rate)}" width="${bw * 0.7}" height="${y(0) - y(rate)}" fill="#2680c2"><title>${t.week}：按时率 ${pct(rate)}（${t.onTime}/${t.responsible}）</title></rect>`}
      <text x="${x + bw * 0.35}" y="${rate === null ? y(0) - 4 : y(rate) - 4}" text-anchor="middle">${rate === null ? '无' : pct(rate)}</text>
      <text x="${x + bw * 0.35}" y="${hgt - pad.b + 16}" text-anchor="middle">${label}</text>
      <text x="${x + bw * 0.35}" y="${hgt - pad.b + 30}" text-anchor="middle">${t.week.slice(5)}</text></g>`;
  });
  const grid = [0, 0.5, 1].map(
    (g) =>
      h`<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(g)}" y2="${y(g)}" stroke="#d9e2ec"/><text x="${pad.l - 6}" y="${y(g) + 4}" text-anchor="end">${g * 100}%</text>`,
  );
  return h`<svg class="chart" id="trend" viewBox="0 0 ${w} ${hgt}" width="100%" role="img" aria-label="近${trend.length}周按时完成率">${grid}${bars}</svg>`;
}

/** A tally's cells; a period not yet due has no on-time rate yet, only what has come in. */
function tallyCells(t: Tally, due = true): Raw {
  return h`<td class="num">${t.responsible}</td><td class="num">${t.onTime}</td><td class="num">${t.late}</td><td class="num">${t.missing}</td><td class="num">${due ? pct(t.onTimeRate) : h`<span class="muted">未到期</span>`}</td>`;
}
const TALLY_HEAD = h`<th class="num">应报</th><th class="num">按时</th><th class="num">逾期补报</th><th class="num">未报</th><th class="num">按时率</th>`;

function dueTable(rows: Standing[], empty: string): Raw {
  if (rows.length === 0) return h`<p class="muted">${empty}</p>`;
  return h`<table><thead><tr><th>职责</th><th>周期</th><th>截止时间</th><th class="num">应报</th><th class="num">已报</th><th class="num">未报</th></tr></thead><tbody>${rows.map(
    (r) =>
      h`<tr class="click" data-href="#/cycles/${r.dutyId}/${r.periodKey}"><td>${r.titleZh}</td><td>${r.periodZh}</td><td class="t">${when(r.deadline)}</td><td class="num">${r.responsible}</td><td class="num">${r.onTime + r.late}</td><td class="num">${r.missing}</td></tr>`,
  )}</tbody></table>`;
}

async function overviewView(): Promise<void> {
  const o = await api<Overview>('GET', '/overview');
  const levels = Object.entries(o.overdue.byLevel).sort(([a], [b]) => Number(a) - Number(b));
  render(h`<h1>总览 <span class="muted">截至 ${when(o.asOf)}</span></h1>
    <div class="cards">
      <div class="card" id="card-today"><div class="n">${o.dueToday.length}</div><div class="l">今日到期（项）</div></div>
      <div class="card" id="card-week"><div class="n">${o.dueThisWeek.length}</div><div class="l">本周到期（项）</div></div>
      <div class="card bad" id="card-overdue"><div class="n">${o.overdue.total}</div><div class="l">逾期未完成（条）</div></div>
      <div class="card" id="card-cases"><div class="n">${o.cases.open}</div><div class="l">在办案件（件）</div></div>
      <div class="card${o.undeliverable.count > 0 ? ' bad' : ''}" id="card-undeliverable"><div class="n">${o.undeliverable.count}</div><div class="l">无法送达的联系人</div></div>
    </div>
    <div class="grid2">
      <section class="panel"><h2>今日到期</h2>${dueTable(o.dueToday, '今天没有到期的事项。')}</section>
      <section class="panel"><h2>本周到期</h2>${dueTable(o.dueThisWeek, '本周没有尚未到期的事项。')}</section>
    </div>
    <section class="panel"><h2>近${o.trend.length}周按时完成率</h2>${trendChart(o.trend)}
      <p class="muted">每周截止的各项职责中，按时完成的单位次数占应报单位次数的比例。</p></section>
    <section class="panel"><h2>各项职责本期完成情况</h2>
      <table id="duties"><thead><tr><th>职责</th><th>本期</th><th>截止时间</th><th>状态</th>${TALLY_HEAD}</tr></thead><tbody>${o.duties.map(
        (d) =>
          h`<tr class="click" data-href="#/cycles/${d.dutyId}/${d.periodKey}" data-duty="${d.dutyId}"><td>${d.titleZh}</td><td>${d.periodZh}</td><td class="t">${when(d.deadline)}</td><td>${CYCLE_STATUS_ZH[d.status] ?? d.status}</td>${tallyCells(d, d.deadline <= o.asOf)}</tr>`,
      )}</tbody></table></section>
    <div class="grid2">
      <section class="panel"><h2>各乡镇完成情况（各项职责最近截止的一期）</h2><table id="towns"><thead><tr><th>乡镇</th>${TALLY_HEAD}</tr></thead><tbody>${o.towns.map(
        (t) =>
          h`<tr class="click" data-href="#/overdue?town=${t.id}"><td>${t.name}</td>${tallyCells(t)}</tr>`,
      )}</tbody></table></section>
      <section class="panel"><h2>各主管部门完成情况（各项职责最近截止的一期）</h2><table id="departments"><thead><tr><th>部门</th>${TALLY_HEAD}</tr></thead><tbody>${o.departments.map(
        (t) =>
          h`<tr class="click" data-href="#/overdue?department=${t.id}"><td>${t.name}</td>${tallyCells(t)}</tr>`,
      )}</tbody></table></section>
    </div>
    <div class="grid2">
      <section class="panel"><h2>逾期事项（按督办级别）</h2>${
        levels.length === 0
          ? h`<p class="muted">没有逾期未完成的事项。</p>`
          : h`<table id="levels"><thead><tr><th>督办级别</th><th class="num">条数</th></tr></thead><tbody>${levels.map(
              ([l, n]) =>
                h`<tr class="click" data-href="#/overdue?level=${l}"><td>${levelZh(Number(l))}</td><td class="num">${n}</td></tr>`,
            )}</tbody></table>`
      }</section>
      <section class="panel"><h2>在办案件（按阶段）</h2>${
        o.cases.byStage.length === 0
          ? h`<p class="muted">没有在办案件。</p>`
          : h`<table id="stages"><thead><tr><th>案件类型</th><th>阶段</th><th class="num">件数</th></tr></thead><tbody>${o.cases.byStage.map(
              (s) =>
                h`<tr class="click" data-href="#/cases?type=${s.type}"><td>${s.typeTitleZh}</td><td>${s.stageTitleZh}</td><td class="num">${s.count}</td></tr>`,
            )}</tbody></table>`
      }</section>
    </div>
    <section class="panel"><h2>无法送达的联系人</h2>${
      o.undeliverable.count === 0
        ? h`<p class="muted">所有联系人的邮箱都能送达。</p>`
        : h`<table id="undeliverable"><thead><tr><th>单位</th><th>职务</th><th>邮箱</th><th>原因</th></tr></thead><tbody>${o.undeliverable.entries.map(
            (e) =>
              h`<tr class="click" data-href="#/roster/unit/${e.unitId}"><td>${e.name}</td><td>${positionZh(e.position)}</td><td>${e.address}</td><td>${e.reasonZh}</td></tr>`,
          )}</tbody></table>`
    }</section>`);
}

// ---------------------------------------------------------------- 逾期清单

interface OverdueItem {
  kind: 'cycle' | 'case';
  item: string;
  titleZh: string;
  unitId: string;
  unitName: string;
  townName?: string;
  departmentName?: string;
  deadline: string;
  workdaysOverdue: number;
  escalationLevel: number;
  dutyId?: string;
  periodKey?: string;
}

async function overdueView(params: URLSearchParams): Promise<void> {
  const [roster, catalog] = await Promise.all([units(), duties()]);
  const towns = roster.filter((u) => u.kind === 'town').map((u) => ({ value: u.id, label: u.name }));
  const depts = roster
    .filter((u) => u.kind === 'county-department')
    .map((u) => ({ value: u.id, label: u.name }));
  const filter = new URLSearchParams();
  for (const k of ['town', 'department', 'duty', 'period', 'level'])
    if (params.get(k)) filter.set(k, params.get(k) as string);
  const q = filter.size ? `?${filter}` : '';
  const first = await api<{ asOf: string; total: number; next: string | null; items: OverdueItem[] }>(
    'GET',
    `/overdue${q}${q ? '&' : '?'}limit=100`,
  );
  const rows = (items: OverdueItem[]) =>
    items.map(
      (i) =>
        h`<tr class="click" data-href="${i.kind === 'cycle' ? `#/cycles/${i.dutyId ?? ''}/${i.periodKey ?? ''}` : `#/cases/${i.item.replace(/^case:/, '')}`}"><td>${i.unitName}</td><td>${i.townName ?? ''}</td><td>${i.departmentName ?? ''}</td><td>${i.titleZh}</td><td class="t">${when(i.deadline)}</td><td class="num">${i.workdaysOverdue}</td><td>${levelZh(i.escalationLevel)}</td></tr>`,
    );
  render(h`<h1>逾期清单 <span class="muted">截至 ${when(first.asOf)}</span></h1>
    <form class="filters" id="overdue-filters">
      <label>乡镇<select name="town">${options(towns, params.get('town'))}</select></label>
      <label>主管部门<select name="department">${options(depts, params.get('department'))}</select></label>
      <label>职责<select name="duty">${options(
        catalog.map((d) => ({ value: d.id, label: d.titleZh })),
        params.get('duty'),
      )}</select></label>
      <label>周期<input name="period" placeholder="如 2023-W09、2023-02" value="${params.get('period') ?? ''}" size="12"></label>
      <label>督办级别<select name="level">${options(
        [0, 1, 2, 3, 4].map((l) => ({ value: String(l), label: levelZh(l) })),
        params.get('level'),
      )}</select></label>
      <button type="submit">筛选</button>
      <button type="button" class="secondary" id="export-csv">导出 CSV</button>
      <button type="button" class="secondary" id="export-xlsx">导出 Excel</button>
    </form>
    <p id="overdue-count">共 <strong>${first.total}</strong> 条</p>
    <div class="panel"><table id="overdue"><thead><tr><th>单位</th><th>所在乡镇</th><th>主管部门</th><th>事项</th><th>截止时间</th><th class="num">逾期工作日</th><th>督办级别</th></tr></thead>
    <tbody>${rows(first.items)}</tbody></table>
    ${first.next ? h`<p><button class="secondary" id="more">加载更多</button></p>` : ''}</div>`);
  filtersToHash('overdue-filters', '#/overdue');
  const exportAs = (format: 'csv' | 'xlsx') => {
    const f = new URLSearchParams(filter);
    f.set('format', format);
    void download(`/overdue?${f}`, `逾期清单.${format}`).catch((err: unknown) =>
      main().insertAdjacentHTML('afterbegin', problemBox(err).html),
    );
  };
  document.getElementById('export-csv')?.addEventListener('click', () => exportAs('csv'));
  document.getElementById('export-xlsx')?.addEventListener('click', () => exportAs('xlsx'));
  let next = first.next;
  document.getElementById('more')?.addEventListener('click', (e) => {
    void (async () => {
      if (!next) return;
      const page = await api<{ next: string | null; items: OverdueItem[] }>(
        'GET',
        `/overdue${q}${q ? '&' : '?'}limit=100&cursor=${encodeURIComponent(next)}`,
      );
      document.querySelector('#overdue tbody')?.insertAdjacentHTML('beforeend', part(rows(page.items)));
      next = page.next;
      if (!next) (e.target as HTMLElement).remove();
    })();
  });
}

// ---------------------------------------------------------------- 周期

interface CycleUnit {
  unitId: string;
  name: string;
  state: 'submitted' | 'late' | 'missing';
  submittedAt?: string;
  note?: string;
  evidence?: {
    fields?: Record<string, string>;
    minutes?: string;
    attendees?: string[];
    links?: string[];
    attachments?: { name: string; contentType: string; size: number; url?: string; key?: string }[];
  };
  recordedBy?: string;
  defaulter?: boolean;
  escalationLevel: number;
}

async function cyclesView(dutyId?: string, periodKey?: string): Promise<void> {
  const catalog = await duties();
  const duty = catalog.find((d) => d.id === dutyId) ?? catalog[0];
  if (!duty) return render(h`<p>没有职责。</p>`);
  const cycles = await all<{ periodKey: string; status: string; deadline: string; defaulterCount?: number }>(
    `/cycles?duty=${encodeURIComponent(duty.id)}`,
    'cycles',
  );
  cycles.sort((a, b) => b.periodKey.localeCompare(a.periodKey));
  const period = periodKey ?? cycles[0]?.periodKey;
  const picker = h`<form class="filters" id="cycle-picker">
    <label>职责<select name="duty">${options(
      catalog.map((d) => ({ value: d.id, label: d.titleZh })),
      duty.id,
      '请选择',
    )}</select></label>
    <label>周期<select name="period">${options(
      cycles.map((c) => ({
        value: c.periodKey,
        label: `${c.periodKey}（${CYCLE_STATUS_ZH[c.status] ?? c.status}）`,
      })),
      period,
      '请选择',
    )}</select></label></form>`;
  const wire = () => {
    const form = document.getElementById('cycle-picker') as HTMLFormElement;
    form.addEventListener('change', (e) => {
      const fd = new FormData(form);
      const changedDuty = (e.target as HTMLSelectElement).name === 'duty';
      location.hash = `#/cycles/${String(fd.get('duty'))}${changedDuty ? '' : `/${String(fd.get('period'))}`}`;
    });
  };
  if (!period) {
    render(h`<h1>周期</h1>${picker}<p class="muted">这项职责还没有开始的周期。</p>`);
    return wire();
  }
  const c = await api<{
    titleZh: string;
    status: string;
    deadline: string;
    plan: { period: { start: string; end: string }; warnings: string[] };
    counts: { submitted: number; late: number; missing: number };
    units: CycleUnit[];
    next: string | null;
    total: number;
  }>('GET', `/cycles/${encodeURIComponent(duty.id)}/${encodeURIComponent(period)}?limit=500`);
  const labelOf = (key: string) => duty.form?.fields.find((f) => f.key === key)?.labelZh ?? key;
  const evidence = (u: CycleUnit) => {
    const e = u.evidence ?? {};
    return h`${Object.entries(e.fields ?? {}).map(
      ([k, v]) => h`<div><span class="muted">${labelOf(k)}：</span><span class="pre">${v}</span></div>`,
    )}${u.note ? h`<div>${u.note}</div>` : ''}${e.minutes ? h`<details><summary>会议纪要</summary><div class="pre">${e.minutes}</div></details>` : ''}${
      e.attendees?.length ? h`<div class="muted">参会人员：${e.attendees.join('、')}</div>` : ''
    }${(e.links ?? []).map((l) => h`<div><a href="${l}" target="_blank" rel="noopener noreferrer">${l}</a></div>`)}${(
      e.attachments ?? []
    ).map(
      (a) =>
        h`<div>附件：${a.url ? h`<a href="${a.url}" target="_blank" rel="noopener noreferrer">${a.name}</a>` : a.name}（${Math.ceil(a.size / 1024)} KB）</div>`,
    )}`;
  };
  render(h`<h1>周期：${c.titleZh}</h1>${picker}
    ${c.plan.warnings.map((w) => h`<div class="notice warn" role="status">注意：${w}</div>`)}
    <dl class="kv"><dt>周期</dt><dd>${period}（${when(c.plan.period.start)}至${when(c.plan.period.end)}）</dd>
      <dt>截止时间</dt><dd>${when(c.deadline)}</dd><dt>状态</dt><dd>${CYCLE_STATUS_ZH[c.status] ?? c.status}</dd>
      <dt>完成情况</dt><dd id="cycle-counts">按时完成 ${c.counts.submitted}，逾期补报 ${c.counts.late}，未报 ${c.counts.missing}</dd></dl>
    <div class="panel"><table id="cycle-units"><thead><tr><th>单位</th><th>状态</th><th>提交时间</th><th>提交内容</th><th>督办级别</th></tr></thead><tbody>${c.units.map(
      (u) =>
        h`<tr data-unit="${u.unitId}"><td>${u.name}</td><td>${STATE_ZH[u.state] ?? u.state}${u.defaulter ? h` <span class="pill bad">截止时未报</span>` : ''}</td><td class="t">${when(u.submittedAt)}${u.recordedBy?.startsWith('admin:') ? h`<div class="muted">管理员代录</div>` : ''}</td><td>${evidence(u)}</td><td>${levelZh(u.escalationLevel)}</td></tr>`,
    )}</tbody></table>${c.next ? h`<p class="muted">仅显示前 500 个单位，共 ${c.total} 个。</p>` : ''}</div>`);
  wire();
}

// ---------------------------------------------------------------- 名册

async function rosterView(params: URLSearchParams): Promise<void> {
  const [roster, leaders] = await Promise.all([units(), all<Leader>('/leaders', 'leaders')]);
  const kind = params.get('kind') ?? '';
  const text = (params.get('q') ?? '').trim();
  const shown = roster.filter(
    (u) =>
      (!kind || u.kind === kind) &&
      (params.get('inactive') === '1' || u.active) &&
      (!text || u.id.includes(text) || u.name.includes(text) || u.contact.name.includes(text)),
  );
  render(h`<h1>名册</h1>
    <div class="bar"><a href="#/roster/unit/new"><button type="button">新增单位</button></a>
      <a href="#/roster/import"><button type="button" class="secondary">导入名册</button></a>
      <button type="button" class="secondary" id="roster-csv">导出 CSV</button>
      <button type="button" class="secondary" id="roster-xlsx">导出 Excel</button></div>
    <form class="filters" id="roster-filters">
      <label>查找<input name="q" value="${text}" placeholder="编号、名称或联络员"></label>
      <label>类型<select name="kind">${options(
        UNIT_KINDS.map((k) => ({ value: k, label: kindZh(k) })),
        kind,
      )}</select></label>
      <label><span><input type="checkbox" name="inactive" value="1"${params.get('inactive') === '1' ? new Raw(' checked') : ''}> 含已停用</span></label>
      <button type="submit">查找</button></form>
    <section class="panel"><h2>单位（${shown.length}）</h2><table id="units"><thead><tr><th>编号</th><th>名称</th><th>类型</th><th>联络员</th><th>主要负责人</th><th>状态</th></tr></thead><tbody>${shown
      .slice(0, 500)
      .map(
        (u) =>
          h`<tr class="click" data-href="#/roster/unit/${u.id}"><td>${u.id}</td><td>${u.name}</td><td>${kindZh(u.kind)}</td><td>${u.contact.name} ${u.contact.email}</td><td>${u.principal.name}</td><td>${u.active ? '' : '已停用'}${u.undeliverable?.length ? h` <span class="pill bad">无法送达</span>` : ''}</td></tr>`,
      )}</tbody></table>${shown.length > 500 ? h`<p class="muted">仅显示前 500 个，请用查找缩小范围。</p>` : ''}</section>
    <section class="panel"><h2>县领导（${leaders.length}）</h2><table id="leaders"><thead><tr><th>编号</th><th>职务</th><th>姓名</th><th>邮箱</th><th>电话</th></tr></thead><tbody>${leaders.map(
      (l) =>
        h`<tr class="click" data-href="#/roster/leader/${l.id}"><td>${l.id}</td><td>${l.titleZh}</td><td>${l.holder.name}</td><td>${l.holder.email}${l.undeliverable?.length ? h` <span class="pill bad">无法送达</span>` : ''}</td><td>${l.holder.phone ?? ''}</td></tr>`,
    )}</tbody></table></section>`);
  filtersToHash('roster-filters', '#/roster');
  for (const format of ['csv', 'xlsx'] as const)
    document
      .getElementById(`roster-${format}`)
      ?.addEventListener('click', () => void download(`/units?format=${format}`, `单位名册.${format}`));
}

const personInputs = (prefix: string, label: string, p: Person | undefined, required: boolean) =>
  h`<label>${label}姓名<input name="${prefix}.name" value="${p?.name ?? ''}"${required ? new Raw(' required') : ''}></label>
    <label>${label}邮箱<input name="${prefix}.email" type="email" value="${p?.email ?? ''}"${required ? new Raw(' required') : ''}></label>
    ${prefix === 'staffRepresentative' ? '' : h`<label>${label}电话<input name="${prefix}.phone" value="${p?.phone ?? ''}"></label>`}`;

/** The fields of a form that differ from the stored entry, as a merge patch; emptied optional fields become null. */
function patchFrom(
  form: HTMLFormElement,
  before: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [name, raw] of new FormData(form)) {
    const value = String(raw).trim();
    const path = name.split('.');
    let old: unknown = before;
    for (const p of path) old = (old as Record<string, unknown> | undefined)?.[p];
    const oldText =
      old === undefined || old === null ? '' : Array.isArray(old) ? old.join('、') : String(old);
    if (before && value === oldText) continue;
    if (!before && value === '') continue;
    let target = patch;
    for (const p of path.slice(0, -1)) target = (target[p] ??= {}) as Record<string, unknown>;
    target[path.at(-1) as string] = value === '' ? null : value;
  }
  // An optional person emptied: the person is removed, not left half-filled.
  const staff = patch.staffRepresentative as Record<string, unknown> | undefined;
  if (staff && Object.values(staff).every((v) => v === null) && before?.staffRepresentative)
    patch.staffRepresentative = null;
  // A list typed in one box: 县属监管企业、燃气.
  if (typeof patch.attributes === 'string') patch.attributes = attributesOf(patch.attributes);
  return patch;
}

async function unitView(id: string): Promise<void> {
  const isNew = id === 'new';
  const [roster, leaders] = await Promise.all([units(), all<Leader>('/leaders', 'leaders')]);
  const u = isNew ? undefined : await api<Unit>('GET', `/units/${encodeURIComponent(id)}`);
  const ref = (items: Unit[]) => items.map((x) => ({ value: x.id, label: `${x.name}（${x.id}）` }));
  render(h`<p><a href="#/roster">← 返回名册</a></p><h1>${isNew ? '新增单位' : `${u?.name ?? ''}（${id}）`}</h1>
    ${u && !u.active ? h`<div class="notice info">该单位已停用：不再列入提醒名单，历史记录保留。</div>` : ''}
    ${(u?.undeliverable ?? []).map(
      (m) =>
        h`<div class="notice error">${positionZh(m.position)}的邮箱 ${m.address} 无法送达：${m.reasonZh}（自 ${when(m.since)}）。改正邮箱并保存后恢复发送。</div>`,
    )}
    <div id="result"></div>
    <form class="form" id="unit-form" novalidate>
      ${isNew ? h`<label>单位编号<input name="id" required placeholder="如 ent-0101"></label>` : ''}
      <label>单位名称<input name="name" value="${u?.name ?? ''}" required></label>
      <label>单位类型<select name="kind">${options(
        UNIT_KINDS.map((k) => ({ value: k, label: kindZh(k) })),
        u?.kind,
        '请选择',
      )}</select></label>
      <label>上级单位<select name="parentId">${options(
        ref(roster.filter((x) => x.kind === 'town' || x.kind === 'enterprise')),
        u?.parentId,
        '（无）',
      )}</select></label>
      <label>主管部门<select name="supervisingDepartmentId">${options(
        ref(roster.filter((x) => x.kind === 'county-department' || x.kind === 'county-body')),
        u?.supervisingDepartmentId,
        '（无）',
      )}</select></label>
      <label>分管县领导<select name="leaderInChargeId">${options(
        leaders.map((l) => ({ value: l.id, label: `${l.titleZh} ${l.holder.name}` })),
        u?.leaderInChargeId,
        '（无）',
      )}</select></label>
      <span></span>
      ${personInputs('contact', '联络员', u?.contact, true)}
      ${personInputs('principal', '主要负责人', u?.principal, true)}
      ${personInputs('staffRepresentative', '职工代表', u?.staffRepresentative, false)}
      <label class="wide">单位属性（选填，用顿号分隔，如 县属监管企业、燃气）<input name="attributes" value="${u?.attributes?.join('、') ?? ''}"></label>
      <div class="wide bar"><button type="submit">保存</button>
        ${u?.active ? h`<button type="button" class="danger" id="deactivate">停用该单位</button>` : ''}
        ${u && !u.active ? h`<button type="button" class="secondary" id="activate">重新启用</button>` : ''}
        ${u ? h`<a href="#/records?subject=unit:${u.id}">查看修改记录</a>` : ''}</div>
    </form>`);
  const form = document.getElementById('unit-form') as HTMLFormElement;
  const result = document.getElementById('result') as HTMLElement;
  const done = async (message: string, saved: Unit) => {
    forgetRoster();
    await unitView(saved.id);
    document.getElementById('result')!.innerHTML =
      h`<div class="notice ok" role="status">${message}</div>`.html;
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      try {
        if (isNew) {
          const body = patchFrom(form, undefined);
          const newId = String(body.id ?? '');
          delete body.id;
          if (!newId) throw new ApiError(400, '请填写单位编号', [{ field: 'id', problem: '必填' }]);
          const saved = await api<Unit>('PUT', `/units/${encodeURIComponent(newId)}`, body);
          location.hash = `#/roster/unit/${saved.id}`;
          return;
        }
        const patch = patchFrom(form, u as unknown as Record<string, unknown>);
        if (Object.keys(patch).length === 0) {
          result.innerHTML = h`<div class="notice info">没有修改。</div>`.html;
          return;
        }
        await done('已保存。', await api<Unit>('PATCH', `/units/${encodeURIComponent(id)}`, patch));
      } catch (err) {
        result.innerHTML = problemBox(err).html;
      }
    })();
  });
  document.getElementById('deactivate')?.addEventListener('click', () => {
    if (!confirm(`确定停用“${u?.name ?? id}”？停用后不再提醒该单位，历史记录保留，可随时重新启用。`)) return;
    void api<Unit>('DELETE', `/units/${encodeURIComponent(id)}`)
      .then((saved) => done('已停用。', saved))
      .catch((err: unknown) => (result.innerHTML = problemBox(err).html));
  });
  document.getElementById('activate')?.addEventListener('click', () => {
    void api<Unit>('PATCH', `/units/${encodeURIComponent(id)}`, { active: true })
      .then((saved) => done('已重新启用。', saved))
      .catch((err: unknown) => (result.innerHTML = problemBox(err).html));
  });
}

async function leaderView(id: string): Promise<void> {
  const l = await api<Leader>('GET', `/leaders/${encodeURIComponent(id)}`);
  render(h`<p><a href="#/roster">← 返回名册</a></p><h1>县领导：${l.titleZh}</h1>
    ${(l.undeliverable ?? []).map((m) => h`<div class="notice error">邮箱 ${m.address} 无法送达：${m.reasonZh}</div>`)}
    <div id="result"></div>
    <form class="form" id="leader-form" novalidate>
      <label>职务<input name="titleZh" value="${l.titleZh}" required></label>
      ${personInputs('holder', '', l.holder, true)}
      <div class="wide bar"><button type="submit">保存</button><a href="#/records?subject=leader:${l.id}">查看修改记录</a></div>
    </form>`);
  const form = document.getElementById('leader-form') as HTMLFormElement;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      const result = document.getElementById('result') as HTMLElement;
      try {
        const patch = patchFrom(form, l as unknown as Record<string, unknown>);
        if (Object.keys(patch).length === 0) {
          result.innerHTML = h`<div class="notice info">没有修改。</div>`.html;
          return;
        }
        await api<Leader>('PATCH', `/leaders/${encodeURIComponent(id)}`, patch);
        await leaderView(id);
        document.getElementById('result')!.innerHTML =
          h`<div class="notice ok" role="status">已保存。</div>`.html;
      } catch (err) {
        result.innerHTML = problemBox(err).html;
      }
    })();
  });
}

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function importView(): void {
  render(h`<p><a href="#/roster">← 返回名册</a></p><h1>导入名册</h1>
    <p class="muted">支持 Excel 工作簿（.xlsx）和 CSV（UTF-8 或 Excel 默认的 GBK 编码）。列名可用中文：单位编号、单位名称、单位类型、上级单位、主管部门、分管县领导、联络人、联络人邮箱、联络人电话、主要负责人、主要负责人邮箱……
    先预览：所有问题一次列出，改正前不会写入任何数据；会替换已有单位联系人的，预览中逐一列出。</p>
    <form class="bar" id="import-form"><label>名册文件<input type="file" name="file" accept=".csv,.xlsx,.json" required></label>
      <button type="submit">预览</button></form>
    <div id="import-result"></div>`);
  const form = document.getElementById('import-form') as HTMLFormElement;
  const out = document.getElementById('import-result') as HTMLElement;
  let chosen: File | undefined;
  const send = async (dryRun: boolean): Promise<ImportSummary> => {
    if (!chosen) throw new ApiError(400, '请选择名册文件', []);
    const name = chosen.name.toLowerCase();
    const type = name.endsWith('.xlsx')
      ? XLSX_TYPE
      : name.endsWith('.json')
        ? 'application/json'
        : 'text/csv';
    const res = await request('POST', `/units/import${dryRun ? '?dryRun=true' : ''}`, {
      bytes: await chosen.arrayBuffer(),
      type,
    });
    return (await res.json()) as ImportSummary;
  };
  const counts = (c: ImportSummary['units']) => `新增 ${c.created}、更新 ${c.updated}、未变 ${c.unchanged}`;
  const plan = (s: ImportSummary) =>
    h`<table id="import-changes"><thead><tr><th>操作</th><th>编号</th><th>名称</th><th>变更</th></tr></thead><tbody>${s.changes.map(
      (c) =>
        h`<tr><td>${c.action === 'created' ? '新增' : '更新'}${c.kind === 'leader' ? '县领导' : '单位'}</td><td>${c.id}</td><td>${c.name}</td><td>${(
          c.fields ?? []
        )
          .map(fieldZh)
          .join('、')}${(c.contacts ?? []).map(
          (p) =>
            h`<div class="pill warn">${positionZh(p.position)}：${p.before ? `${p.before.name} <${p.before.email}>` : '（无）'} → ${p.after ? `${p.after.name} <${p.after.email}>` : '（无）'}</div>`,
        )}</td></tr>`,
    )}</tbody></table>${s.changesTotal > s.changes.length ? h`<p class="muted">另有 ${s.changesTotal - s.changes.length} 项未列出。</p>` : ''}`;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    chosen = (form.elements.namedItem('file') as HTMLInputElement).files?.[0];
    void (async () => {
      out.innerHTML = h`<p class="muted">正在检查……</p>`.html;
      try {
        const s = await send(true);
        out.innerHTML =
          h`<div class="notice info" id="import-preview">预览（尚未写入）：单位 ${counts(s.units)}；县领导 ${counts(s.leaders)}。${
            s.contactsReplaced > 0
              ? h`<br><strong>将替换 ${s.contactsReplaced} 个已有单位或县领导的联系人，请逐一核对。</strong>`
              : ''
          }</div>${plan(s)}<p><button id="import-confirm"${s.changesTotal === 0 ? new Raw(' disabled') : ''}>确认导入</button></p>`.html;
        document.getElementById('import-confirm')?.addEventListener('click', () => {
          void (async () => {
            try {
              const done = await send(false);
              forgetRoster();
              out.innerHTML =
                h`<div class="notice ok" role="status" id="import-done">名册已导入：单位 ${counts(done.units)}；县领导 ${counts(done.leaders)}。</div>`.html;
            } catch (err) {
              out.innerHTML = problemBox(err).html;
            }
          })();
        });
      } catch (err) {
        out.innerHTML = problemBox(err).html;
      }
    })();
  });
}

// ---------------------------------------------------------------- 案件

interface CaseType {
  id: string;
  titleZh: string;
  responsibleKinds: string[];
  supervisingKinds: string[];
  termLabelZh: string;
  openFields: {
    key: string;
    labelZh: string;
    required: boolean;
    maxLength: number;
    format?: 'text' | 'mobile' | 'email';
  }[];
  stages: { id: string; titleZh: string }[];
  events: {
    id: string;
    titleZh: string;
    from: string[];
    by: string[];
    fields: { key: string; labelZh: string; required: boolean; maxLength: number }[];
    person: boolean;
    newDeadline: 'required' | 'optional' | 'none';
    fieldsRuleZh?: string;
  }[];
}
interface CaseSummary {
  caseId: string;
  type: string;
  typeTitleZh: string;
  title: string;
  status: string;
  stage: string;
  stageTitleZh: string;
  responsibleUnitId: string;
  supervisingUnitId: string;
  openedAt: string;
  deadline: string | null;
  term: string;
  termLabelZh: string;
  /** Why the term is not the date asked for (a rest day moved to the next working day). */
  termNoteZh?: string;
  overdue: { titleZh: string; workdaysOverdue: number; escalationLevel: number } | null;
}

let typesCache: Promise<CaseType[]> | undefined;
const caseTypes = () =>
  (typesCache ??= api<{ types: CaseType[] }>('GET', '/case-types').then((r) => r.types));

async function casesView(params: URLSearchParams): Promise<void> {
  const [types, roster] = await Promise.all([caseTypes(), units()]);
  const type = types.find((t) => t.id === params.get('type')) ?? types[0];
  if (!type) return render(h`<p>没有案件类型。</p>`);
  const list = await all<CaseSummary>(`/cases?type=${encodeURIComponent(type.id)}&status=open`, 'cases');
  const name = (id: string) => roster.find((u) => u.id === id)?.name ?? id;
  render(h`<h1>案件</h1>
    <div class="bar"><label>案件类型<select id="case-type">${options(
      types.map((t) => ({ value: t.id, label: t.titleZh })),
      type.id,
      '请选择',
    )}</select></label><a href="#/cases/new?type=${type.id}"><button type="button">立案</button></a></div>
    <div class="board" id="case-board">${type.stages.map(
      (s) =>
        h`<section class="column" data-stage="${s.id}"><h3>${s.titleZh}（${list.filter((c) => c.stage === s.id).length}）</h3>${list
          .filter((c) => c.stage === s.id)
          .map(
            (c) =>
              h`<a class="case" href="#/cases/${c.caseId}"><strong>${c.title}</strong><div class="muted">${name(c.responsibleUnitId)}</div><div class="muted">期限 ${when(c.deadline)}</div>${c.overdue ? h`<span class="pill bad">逾期 ${c.overdue.workdaysOverdue} 个工作日</span>` : ''}</a>`,
          )}</section>`,
    )}</div>`);
  document.getElementById('case-type')?.addEventListener('change', (e) => {
    location.hash = `#/cases?type=${(e.target as HTMLSelectElement).value}`;
  });
}

/** The filled-in fields of a case form (inputs named `f.<key>`), trimmed; empty ones left out. */
function formFields(fd: FormData): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [k, v] of fd) if (k.startsWith('f.') && String(v).trim()) fields[k.slice(2)] = String(v).trim();
  return fields;
}

// A phone or an email is one line whatever its length (a phone keypad on a mobile); the API checks the format.
const textField = (
  f: { key: string; labelZh: string; required: boolean; maxLength: number; format?: string },
  prefix: string,
) =>
  h`<label class="wide">${f.labelZh}${f.required ? '' : '（选填）'}${
    f.maxLength > 200 && (f.format ?? 'text') === 'text'
      ? h`<textarea name="${prefix}${f.key}" rows="3" maxlength="${f.maxLength}"${f.required ? new Raw(' required') : ''}></textarea>`
      : h`<input name="${prefix}${f.key}"${f.format === 'mobile' ? new Raw(' type="tel"') : f.format === 'email' ? new Raw(' type="email"') : ''} maxlength="${f.maxLength}"${f.required ? new Raw(' required') : ''}>`
  }</label>`;

async function newCaseView(params: URLSearchParams): Promise<void> {
  const [types, roster] = await Promise.all([caseTypes(), units()]);
  const type = types.find((t) => t.id === params.get('type')) ?? types[0];
  if (!type) return;
  const pick = (kinds: string[]) =>
    roster
      .filter((u) => u.active && kinds.includes(u.kind))
      .map((u) => ({ value: u.id, label: `${u.name}（${u.id}）` }));
  render(h`<p><a href="#/cases?type=${type.id}">← 返回案件</a></p><h1>立案：${type.titleZh}</h1><div id="result"></div>
    <form class="form" id="case-form" novalidate>
      <label class="wide">案件名称<input name="title" required maxlength="200"></label>
      <label>责任单位<select name="responsibleUnitId">${options(pick(type.responsibleKinds), null, '请选择')}</select></label>
      <label>监管部门<select name="supervisingUnitId">${options(pick(type.supervisingKinds), null, '请选择')}</select></label>
      <label>${type.termLabelZh}<input name="until" type="date" required></label>
      ${type.openFields.map((f) => textField(f, 'f.'))}
      <label class="wide">备注（选填）<textarea name="note" rows="2"></textarea></label>
      <div class="wide"><button type="submit">立案</button></div></form>`);
  const form = document.getElementById('case-form') as HTMLFormElement;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    const fields = formFields(fd);
    const s = (k: string) => String(fd.get(k) ?? '').trim();
    // Sent as entered: the API checks everything (and names each field) exactly as for any other caller.
    const body = {
      type: type.id,
      title: s('title'),
      responsibleUnitId: s('responsibleUnitId'),
      supervisingUnitId: s('supervisingUnitId'),
      term: { until: s('until') },
      fields,
      ...(s('note') ? { note: s('note') } : {}),
    };
    void api<{ caseId: string }>('POST', '/cases', body)
      .then((c) => (location.hash = `#/cases/${c.caseId}`))
      .catch((err: unknown) => {
        (document.getElementById('result') as HTMLElement).innerHTML = problemBox(err).html;
        window.scrollTo(0, 0);
      });
  });
}

async function caseView(id: string, flash?: string): Promise<void> {
  const [types, roster] = await Promise.all([caseTypes(), units()]);
  const c = await api<
    CaseSummary & {
      fields: Record<string, string>;
      allowedEvents: { id: string; titleZh: string; by: string[] }[];
      history: {
        seq: number;
        event: string;
        at: string;
        actor: string;
        note?: string;
        fields?: Record<string, string>;
        stage?: string;
      }[];
      timeline: { steps: { key: string; kind: string; at: string; state: string; level?: number }[] };
    }
  >('GET', `/cases/${encodeURIComponent(id)}`);
  const type = types.find((t) => t.id === c.type);
  const name = (uid: string) => roster.find((u) => u.id === uid)?.name ?? uid;
  const eventTitle = (e: string) =>
    e === 'opened'
      ? '立案'
      : e === 'ended'
        ? '到期自动结束'
        : (type?.events.find((x) => x.id === e)?.titleZh ?? e);
  const label = (k: string) =>
    type?.openFields.find((f) => f.key === k)?.labelZh ??
    type?.events.flatMap((e) => e.fields).find((f) => f.key === k)?.labelZh ??
    k;
  const county = c.allowedEvents.filter((e) => e.by.includes('admin'));
  render(h`<p><a href="#/cases?type=${c.type}">← 返回案件</a></p><h1>${c.title}</h1>
    ${flash ? h`<div class="notice ok" role="status">${flash}</div>` : ''}<div id="result"></div>
    <dl class="kv"><dt>案件编号</dt><dd>${c.caseId}</dd><dt>类型</dt><dd>${c.typeTitleZh}</dd>
      <dt>当前阶段</dt><dd id="case-stage">${c.stageTitleZh}${c.status === 'closed' ? '（已办结）' : ''}</dd>
      <dt>责任单位</dt><dd>${name(c.responsibleUnitId)}</dd><dt>监管部门</dt><dd>${name(c.supervisingUnitId)}</dd>
      <dt>期限</dt><dd>${when(c.deadline)}${c.overdue ? h` <span class="pill bad">${c.overdue.titleZh}，逾期 ${c.overdue.workdaysOverdue} 个工作日，${levelZh(c.overdue.escalationLevel)}</span>` : ''}</dd>
      <dt>${c.termLabelZh}</dt><dd>${when(c.term)}${c.termNoteZh ? h`<div class="muted">${c.termNoteZh}</div>` : ''}</dd>
      ${Object.entries(c.fields).map(([k, v]) => h`<dt>${label(k)}</dt><dd>${v}</dd>`)}</dl>
    <h2>县安委办可办理</h2>${
      county.length === 0
        ? h`<p class="muted">当前阶段没有由县安委办办理的事项。</p>`
        : county.map((e) => {
            const spec = type?.events.find((x) => x.id === e.id);
            return h`<form class="form panel event-form" data-event="${e.id}" novalidate><strong class="wide">${e.titleZh}</strong>
              ${spec?.fieldsRuleZh ? h`<p class="wide muted">${spec.fieldsRuleZh}</p>` : ''}
              ${(spec?.fields ?? []).map((f) => textField(f, 'f.'))}
              ${spec?.person ? h`<label>经办人姓名<input name="person.name" required></label>` : ''}
              ${spec && spec.newDeadline !== 'none' ? h`<label>新的整改期限<input type="date" name="newDeadline"${spec.newDeadline === 'required' ? new Raw(' required') : ''}></label>` : ''}
              <label class="wide">说明（选填）<textarea name="note" rows="2"></textarea></label>
              <div class="wide"><button type="submit">${e.titleZh}</button></div></form>`;
          })
    }
    <h2>办理经过</h2><table id="case-history"><thead><tr><th>时间</th><th>事项</th><th>办理方</th><th>内容</th></tr></thead><tbody>${c.history.map(
      (e) =>
        h`<tr><td class="t">${when(e.at)}</td><td>${eventTitle(e.event)}</td><td>${e.actor.startsWith('admin') ? '县安委办' : e.actor.startsWith('unit:') ? name(e.actor.slice(5)) : e.actor}</td><td>${e.note ?? ''}${Object.entries(
          e.fields ?? {},
        ).map(([k, v]) => h`<div><span class="muted">${label(k)}：</span>${v}</div>`)}</td></tr>`,
    )}</tbody></table>`);
  for (const form of document.querySelectorAll<HTMLFormElement>('form.event-form'))
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      const fields = formFields(fd);
      const person = String(fd.get('person.name') ?? '').trim();
      const note = String(fd.get('note') ?? '').trim();
      const newDeadline = String(fd.get('newDeadline') ?? '').trim();
      const event = form.dataset.event ?? '';
      void api('POST', `/cases/${encodeURIComponent(id)}/events`, {
        event,
        fields,
        ...(person ? { person: { name: person } } : {}),
        ...(note ? { note } : {}),
        ...(newDeadline ? { newDeadline } : {}),
      })
        .then(() => caseView(id, `已办理：${eventTitle(event)}`))
        .catch((err: unknown) => {
          (document.getElementById('result') as HTMLElement).innerHTML = problemBox(err).html;
          window.scrollTo(0, 0);
        });
    });
}

// ---------------------------------------------------------------- 专项工作

interface AdhocDuty {
  id: string;
  titleZh: string;
  documentNo?: string;
  status: string;
  deadlineAt: string | null;
  activeDates?: { from: string; until: string };
  clause: { quote: string };
  responsibleKinds: string[];
  createdAt?: string;
}
interface Template {
  nameZh: string;
  year: number;
  ruleZh: string;
  request: Record<string, unknown> & {
    titleZh: string;
    instructionZh: string;
    evidenceZh?: string;
    responsible: { kinds?: string[] };
    deadline: { date: string; time: string };
  };
}

const FIELD_TYPE_ZH = { textarea: '多行文字', text: '一行文字', number: '数字', names: '名单' } as const;

async function adhocView(params: URLSearchParams, flash?: Raw): Promise<void> {
  const [duties, tpl, roster] = await Promise.all([
    all<AdhocDuty>('/adhoc-duties', 'duties'),
    api<{ templates: Template[] }>('GET', '/adhoc-templates'),
    units(),
  ]);
  const chosen = tpl.templates.find((t) => t.nameZh === params.get('template'));
  const towns = roster.filter((u) => u.kind === 'town' && u.active);
  const fieldRow = (i: number) =>
    h`<div class="bar field-row"><label>第${i + 1}项名称<input name="field.${i}.label" placeholder="如 检查情况"></label>
      <label>类型<select name="field.${i}.type">${Object.entries(FIELD_TYPE_ZH).map(
        ([v, l]) => h`<option value="${v}">${l}</option>`,
      )}</select></label>
      <label><span><input type="checkbox" name="field.${i}.optional" value="1"> 选填</span></label></div>`;
  render(h`<h1>专项工作</h1>${flash ?? ''}<div id="result"></div>
    <section class="panel"><h2>已发起（${duties.length}）</h2>${
      duties.length === 0
        ? h`<p class="muted">还没有发起专项工作。</p>`
        : h`<table id="adhoc-list"><thead><tr><th>编号</th><th>名称</th><th>文号</th><th>截止</th><th>状态</th><th></th></tr></thead><tbody>${duties.map(
            (d) =>
              h`<tr><td>${d.id}</td><td><a href="#/cycles/${d.id}">${d.titleZh}</a></td><td>${d.documentNo ?? ''}</td><td class="t">${
                d.activeDates
                  ? `${when(d.activeDates.from)}至${when(d.activeDates.until)}，重复进行`
                  : when(d.deadlineAt)
              }</td><td>${d.status === 'cancelled' ? '已取消' : '进行中'}</td><td>${
                d.status === 'cancelled' ? '' : h`<a href="#/adhoc/${d.id}">延期、调整或取消</a>`
              }</td></tr>`,
          )}</tbody></table>`
    }</section>
    <section class="panel"><h2>发起专项工作</h2>
      <form class="bar" id="template-pick"><label>从模板开始<select name="template">${options(
        tpl.templates.map((t) => ({
          value: t.nameZh,
          label: `${t.nameZh}（${t.year}年，${t.request.deadline.date} 截止）`,
        })),
        chosen?.nameZh,
        '不用模板',
      )}</select></label></form>
      <form class="form" id="adhoc-form" novalidate>
        <label class="wide">名称<input name="titleZh" value="${chosen?.request.titleZh ?? ''}" required></label>
        <label class="wide">工作要求<textarea name="instructionZh" rows="3">${chosen?.request.instructionZh ?? ''}</textarea></label>
        <label>文号（选填）<input name="documentNo" placeholder="如 襄安办〔2023〕12号"></label>
        <label>需报送的材料<input name="evidenceZh" value="${chosen?.request.evidenceZh ?? '检查情况报告（含发现问题及整改情况）'}"></label>
        <fieldset class="wide"><legend>责任单位类型</legend>${UNIT_KINDS.map(
          (k) =>
            h`<label><span><input type="checkbox" name="kinds" value="${k}"${(chosen?.request.responsible.kinds ?? []).includes(k) ? new Raw(' checked') : ''}> ${kindZh(k)}</span></label>`,
        )}</fieldset>
        <label>限于乡镇（选填，可多选）<select name="towns" multiple size="4">${towns.map(
          (t) => h`<option value="${t.id}">${t.name}</option>`,
        )}</select></label>
        <label>限于单位属性（选填，用顿号分隔）<input name="attributes" placeholder="如 燃气、县属监管企业"></label>
        <label>截止日期<input type="date" name="date" value="${chosen?.request.deadline.date ?? ''}" required></label>
        <label>截止时刻<input type="time" name="time" value="${chosen?.request.deadline.time ?? '18:00'}" required></label>
        <fieldset class="wide"><legend>单位报送表（不填则由单位写明完成情况）</legend>
          ${[0, 1, 2, 3].map(fieldRow)}
          <div class="bar"><label>附件名称（选填）<input name="attach" placeholder="如 现场照片"></label>
          <label><span><input type="checkbox" name="attachRequired" value="1"> 必须上传</span></label></div></fieldset>
        <div class="wide"><button type="submit">发起</button></div>
      </form></section>`);
  document.getElementById('template-pick')?.addEventListener('change', (e) => {
    const v = (e.target as HTMLSelectElement).value;
    location.hash = `#/adhoc${v ? `?template=${encodeURIComponent(v)}` : ''}`;
  });
  const form = document.getElementById('adhoc-form') as HTMLFormElement;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    const s = (k: string) => String(fd.get(k) ?? '').trim();
    const fields = [0, 1, 2, 3]
      .map((i) => ({
        key: `field${i + 1}`,
        labelZh: s(`field.${i}.label`),
        type: s(`field.${i}.type`) || 'textarea',
        required: !fd.get(`field.${i}.optional`),
      }))
      .filter((f) => f.labelZh);
    const attributes = attributesOf(s('attributes'));
    const townIds = fd.getAll('towns').map(String);
    // As entered: the API checks it all (a deadline past, nobody responsible …) and names each field.
    const body = {
      ...(chosen ? chosen.request : {}),
      titleZh: s('titleZh'),
      instructionZh: s('instructionZh'),
      ...(s('documentNo') ? { documentNo: s('documentNo') } : {}),
      ...(s('evidenceZh') ? { evidenceZh: s('evidenceZh') } : {}),
      responsible: {
        ...(fd.getAll('kinds').length ? { kinds: fd.getAll('kinds').map(String) } : {}),
        ...(townIds.length ? { towns: townIds } : {}),
        ...(attributes.length ? { attributes } : {}),
      },
      deadline: { date: s('date'), time: s('time') },
      ...(fields.length || s('attach')
        ? {
            form: {
              fields,
              ...(s('attach')
                ? { attachments: { labelZh: s('attach'), required: !!fd.get('attachRequired'), max: 5 } }
                : {}),
            },
          }
        : {}),
    };
    void api<{ id: string; titleZh: string; responsibleCount: number }>('POST', '/duties', body)
      .then((d) =>
        adhocView(
          new URLSearchParams(),
          h`<div class="notice ok" role="status" id="adhoc-created">已发起：${d.titleZh}（编号 ${d.id}），责任单位 ${d.responsibleCount} 个。提醒与督办按设置自动发送。</div>`,
        ),
      )
      .catch((err: unknown) => {
        (document.getElementById('result') as HTMLElement).innerHTML = problemBox(err, ADHOC_FIELDS).html;
        window.scrollTo(0, 0);
      });
  });
}

/** The names the 专项工作 form gives the request's fields, for the API's problems. */
const ADHOC_FIELDS: Record<string, string> = {
  titleZh: '名称',
  instructionZh: '工作要求',
  documentNo: '文号',
  evidenceZh: '需报送的材料',
  responsible: '责任单位',
  'responsible.kinds': '责任单位类型',
  'responsible.attributes': '单位属性',
  deadline: '截止时间',
  'deadline.date': '截止日期',
  'deadline.time': '截止时刻',
  'responsible.towns': '限于乡镇',
  form: '单位报送表',
  'form.attachments.labelZh': '附件名称',
  add: '添加的单位',
  remove: '移出的单位',
  reasonZh: '原因',
};

async function adhocChangeView(id: string): Promise<void> {
  const duties = await all<AdhocDuty>('/adhoc-duties', 'duties');
  const d = duties.find((x) => x.id === id);
  if (!d) return render(h`<p>专项工作不存在：${id}</p><p><a href="#/adhoc">返回</a></p>`);
  render(h`<p><a href="#/adhoc">← 返回专项工作</a></p><h1>${d.titleZh}</h1><div id="result"></div>
    <p>${d.clause.quote}</p><p>截止：${d.activeDates ? `${when(d.activeDates.from)}至${when(d.activeDates.until)}，重复进行` : when(d.deadlineAt)}</p>
    ${
      d.activeDates
        ? ''
        : h`<form class="form panel change-form" data-change="extend"><strong class="wide">延期</strong>
      <label>新的截止日期<input type="date" name="date" required></label><label>时刻<input type="time" name="time" value="18:00"></label>
      <label class="wide">原因<input name="reason"></label><div class="wide"><button type="submit">延期</button></div></form>`
    }
    <form class="form panel change-form" data-change="units"><strong class="wide">调整责任单位</strong>
      <label>添加（单位编号，用顿号分隔）<input name="add"></label><label>移出（单位编号）<input name="remove"></label>
      <label class="wide">原因<input name="reason"></label><div class="wide"><button type="submit">调整</button></div></form>
    <form class="form panel change-form" data-change="cancel"><strong class="wide">取消</strong>
      <label class="wide">原因<input name="reason" required></label><div class="wide"><button type="submit" class="danger">取消这项工作</button></div></form>`);
  for (const form of document.querySelectorAll<HTMLFormElement>('form.change-form'))
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      const s = (k: string) => String(fd.get(k) ?? '').trim();
      const ids = (k: string) =>
        s(k)
          .split(/[、,，\s]+/)
          .filter(Boolean);
      const kind = form.dataset.change as 'extend' | 'units' | 'cancel';
      if (kind === 'cancel' && !confirm(`确定取消“${d.titleZh}”？未报送的单位会收到一次通知，此后不再提醒。`))
        return;
      const body =
        kind === 'extend'
          ? {
              deadline: { date: s('date'), time: s('time') || '18:00' },
              ...(s('reason') ? { reasonZh: s('reason') } : {}),
            }
          : kind === 'units'
            ? {
                ...(ids('add').length ? { add: ids('add') } : {}),
                ...(ids('remove').length ? { remove: ids('remove') } : {}),
                ...(s('reason') ? { reasonZh: s('reason') } : {}),
              }
            : { reasonZh: s('reason') };
      void api('POST', `/adhoc-duties/${encodeURIComponent(id)}/${kind}`, body)
        .then(() =>
          adhocView(
            new URLSearchParams(),
            h`<div class="notice ok" role="status">已${kind === 'extend' ? '延期' : kind === 'units' ? '调整责任单位' : '取消'}：${d.titleZh}。相关单位会收到一次通知。</div>`,
          ),
        )
        .catch((err: unknown) => {
          (document.getElementById('result') as HTMLElement).innerHTML = problemBox(err, ADHOC_FIELDS).html;
        });
    });
}

// ---------------------------------------------------------------- 发送与审计

interface Delivery {
  address: string;
  name: string;
  sentAt: string;
  status: string;
  subjectLine: string;
  reasonZh?: string;
  subjects: string[];
}

/** Audit actions as an administrator reads them. */
const ACTION_ZH: Record<string, string> = {
  'unit-created': '新增单位',
  'unit-updated': '修改单位',
  'unit-deactivated': '停用单位',
  'leader-created': '新增县领导',
  'leader-updated': '修改县领导',
  'addresses-released': '恢复向已改正的邮箱发送',
  submission: '按时报送',
  'submission-late': '逾期补报',
  'case-opened': '立案',
  'adhoc-duty-created': '发起专项工作',
  'adhoc-duty-extended': '专项工作延期',
  'adhoc-duty-cancelled': '取消专项工作',
  'adhoc-duty-units-changed': '调整专项工作责任单位',
};
const actionZh = (a: string) =>
  ACTION_ZH[a] ?? (a.startsWith('case-event:') ? `办理案件事件（${a.slice('case-event:'.length)}）` : a);
const actorZh = (a: string) =>
  a.startsWith('admin:')
    ? `管理员 ${a.slice(6)}`
    : a.startsWith('unit-link:')
      ? `单位（${a.slice(10)}，通过邮件链接）`
      : a === 'simulator'
        ? '模拟'
        : a;
/** Detail keys of audit entries as a reader names them; null: bookkeeping nobody needs to read. */
const DETAIL_ZH: Record<string, string | null> = {
  titleZh: '名称',
  deadline: '截止时间',
  responsibleCount: '责任单位数',
  reasonZh: '原因',
  type: '案件类型',
  responsibleUnitId: '责任单位',
  supervisingUnitId: '监管部门',
  term: '整改期限',
  newTerm: '新的整改期限',
  fromStage: '原阶段',
  toStage: '新阶段',
  role: '办理方',
  person: '经办人',
  seq: null,
  periodKey: '周期',
  generation: null,
  activeDates: null,
};

/** An entry's details: the fields changed, by their Chinese names; anything else as it is. */
function detailsZh(details: Record<string, unknown> | undefined): Raw {
  if (!details) return h``;
  const parts = Object.entries(details).map(([k, v]) => {
    if (k === 'changed' && Array.isArray(v)) return `修改了：${v.map((f) => fieldZh(String(f))).join('、')}`;
    if (k === 'import') return `批量导入（${String(v).toUpperCase()}）`;
    if (k === 'unitId') return `单位：${String(v)}`;
    if (k === 'kind') return `类型：${kindZh(String(v))}`;
    if (k === 'addresses' && Array.isArray(v)) return `邮箱：${v.join('、')}`;
    const label = DETAIL_ZH[k];
    if (label === null) return '';
    const text =
      typeof v === 'string'
        ? /^\d{4}-\d{2}-\d{2}T/.test(v)
          ? when(v)
          : v
        : typeof v === 'number'
          ? String(v)
          : '';
    return text ? `${label ?? k}：${text}` : '';
  });
  return h`${parts.filter(Boolean).map((p) => h`<div>${p}</div>`)}`;
}

async function recordsView(params: URLSearchParams): Promise<void> {
  const q = new URLSearchParams();
  for (const k of ['from', 'to', 'recipient', 'status', 'subject'])
    if (params.get(k)) q.set(k, params.get(k) as string);
  const auditSubject = params.get('subject')?.includes(':') ? params.get('subject') : null;
  if (auditSubject) q.delete('subject');
  let deliveries: { from: string; to: string; deliveries: Delivery[]; next: string | null } | undefined;
  let audit:
    | { entries: { at: string; actor: string; action: string; details?: Record<string, unknown> }[] }
    | undefined;
  let problem: Raw = h``;
  try {
    [deliveries, audit] = await Promise.all([
      api<NonNullable<typeof deliveries>>('GET', `/deliveries?${q}${q.size ? '&' : ''}limit=100`),
      auditSubject
        ? api<NonNullable<typeof audit>>('GET', `/audit?subject=${encodeURIComponent(auditSubject)}`)
        : Promise.resolve(undefined),
    ]);
  } catch (err) {
    problem = problemBox(err);
  }
  render(h`<h1>发送与审计</h1>${problem}
    <form class="filters" id="records-filters">
      <label>收件人邮箱<input name="recipient" value="${params.get('recipient') ?? ''}" size="28"></label>
      <label>从<input type="date" name="from" value="${params.get('from') ?? ''}"></label>
      <label>到<input type="date" name="to" value="${params.get('to') ?? ''}"></label>
      <label>状态<select name="status">${options(
        Object.entries(DELIVERY_STATUS_ZH).map(([value, label]) => ({ value, label })),
        params.get('status'),
      )}</select></label>
      <label>事项<input name="subject" value="${params.get('subject') ?? ''}" placeholder="unit:town-001 或 CYCLE#职责#周期" size="26"></label>
      <button type="submit">查询</button></form>
    ${
      audit
        ? h`<section class="panel"><h2>修改与办理记录：${auditSubject}</h2><table id="audit"><thead><tr><th>时间</th><th>操作人</th><th>操作</th><th>内容</th></tr></thead><tbody>${audit.entries.map(
            (e) =>
              h`<tr><td class="t">${when(e.at)}</td><td>${actorZh(e.actor)}</td><td>${actionZh(e.action)}</td><td>${detailsZh(e.details)}</td></tr>`,
          )}</tbody></table></section>`
        : ''
    }
    ${
      deliveries
        ? h`<section class="panel"><h2>邮件发送记录（${when(deliveries.from)}至${when(deliveries.to)}，新的在前）</h2><table id="deliveries"><thead><tr><th>发送时间</th><th>收件人</th><th>主题</th><th>状态</th></tr></thead><tbody>${deliveries.deliveries.map(
            (d) =>
              h`<tr><td class="t">${when(d.sentAt)}</td><td>${d.name} &lt;${d.address}&gt;</td><td>${d.subjectLine}</td><td>${DELIVERY_STATUS_ZH[d.status] ?? d.status}${d.reasonZh ? h`<div class="muted">${d.reasonZh}</div>` : ''}</td></tr>`,
          )}</tbody></table>${deliveries.next ? h`<p class="muted">仅显示最近 100 封；缩小时间范围或指定收件人可查看更早的邮件。</p>` : ''}</section>`
        : ''
    }`);
  filtersToHash('records-filters', '#/records');
}

// ---------------------------------------------------------------- 邮件 (local)

interface Mail {
  messageId: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  at: number;
}

async function mailView(params: URLSearchParams): Promise<void> {
  const to = params.get('to') ?? '';
  const r = await api<{ count: number; mails: Mail[] }>(
    'GET',
    `/_local/mail?limit=50${to ? `&to=${encodeURIComponent(to)}` : ''}`,
  );
  const shanghai = (ms: number) => when(new Date(ms + 8 * 3600_000).toISOString().replace('Z', '+08:00'));
  const text = (m: Mail) =>
    m.text ??
    (m.html ?? '')
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<[^>]+>/g, '')
      .replace(/&nbsp;/g, ' ');
  render(h`<h1>邮件 <span class="muted">本地运行：系统发出的每封邮件，按收件人所见，时间为虚拟时钟的发送时间</span></h1>
    <form class="filters" id="mail-filters"><label>收件人邮箱<input name="to" value="${to}" size="32"></label><button type="submit">查看</button></form>
    <p>${to ? `${to} 共收到 ${r.count} 封` : `共 ${r.count} 封`}，显示最新 ${Math.min(50, r.mails.length)} 封。</p>
    <div id="mails">${r.mails.map(
      (m) =>
        h`<article class="mail"><div><strong>${m.subject}</strong></div><div class="meta">发送时间：${shanghai(m.at)} · 收件人：${m.to.join('、')}</div><pre>${text(m)}</pre></article>`,
    )}</div>`);
  const form = document.getElementById('mail-filters') as HTMLFormElement;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = String(new FormData(form).get('to') ?? '').trim();
    location.hash = `#/mail${v ? `?to=${encodeURIComponent(v)}` : ''}`;
  });
}

// ---------------------------------------------------------------- routing

async function route(): Promise<void> {
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const [, view = 'overview', a, b] = path.split('/');
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#nav a'))
    link.classList.toggle('active', link.dataset.view === view);
  render(h`<p class="muted">正在加载……</p>`);
  try {
    if (view === 'overview') await overviewView();
    else if (view === 'overdue') await overdueView(params);
    else if (view === 'cycles') await cyclesView(a && decodeURIComponent(a), b && decodeURIComponent(b));
    else if (view === 'roster' && a === 'unit' && b) await unitView(decodeURIComponent(b));
    else if (view === 'roster' && a === 'leader' && b) await leaderView(decodeURIComponent(b));
    else if (view === 'roster' && a === 'import') importView();
    else if (view === 'roster') await rosterView(params);
    else if (view === 'adhoc' && a) await adhocChangeView(decodeURIComponent(a));
    else if (view === 'adhoc') await adhocView(params);
    else if (view === 'cases' && a === 'new') await newCaseView(params);
    else if (view === 'cases' && a) await caseView(decodeURIComponent(a));
    else if (view === 'cases') await casesView(params);
    else if (view === 'records') await recordsView(params);
    else if (view === 'mail' && config.local) await mailView(params);
    else render(h`<h1>页面不存在</h1><p><a href="#/overview">返回总览</a></p>`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    render(h`${problemBox(err)}<p><a href="#/overview">返回总览</a></p>`);
  }
}

// Rows that lead somewhere: the whole row is the link.
document.addEventListener('click', (e) => {
  const row = (e.target as HTMLElement).closest<HTMLElement>('[data-href]');
  if (row && !(e.target as HTMLElement).closest('a, button, input, select, textarea'))
    location.hash = row.dataset.href ?? '';
});
window.addEventListener('hashchange', () => {
  if (token()) void route();
});

async function start(): Promise<void> {
  try {
    config = (await (await fetch('/console/config.json')).json()) as ConsoleConfig;
  } catch {
    render(h`<div class="notice error">无法连接服务器，请稍后刷新页面。</div>`);
    return;
  }
  // The local start-up message links here with the token in the fragment (never sent to a server).
  const fragmentToken = /^#token=([^&]+)/.exec(location.hash)?.[1];
  if (fragmentToken) {
    history.replaceState(null, '', '/console#/overview');
    return signInWith(decodeURIComponent(fragmentToken));
  }
  const code = new URLSearchParams(location.search).get('code');
  if (code && config.signIn === 'cognito') {
    if (!(await finishCognitoSignIn(code, new URLSearchParams(location.search).get('state'))))
      return showSignIn('登录未完成，请重试');
  }
  if (token()) signedIn();
  else showSignIn();
}

void start();
