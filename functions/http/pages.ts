/**
 * The pages a unit opens from an email link. A browser asks for HTML (its Accept header names text/html) and gets a
 * page in Chinese, errors included; API clients get JSON as before.
 */
import { escapeHtml } from '../core/html.ts';
import { errorBody, html } from './respond.ts';
import type { ApiRequest, ApiResult } from './types.ts';

export { escapeHtml };

/**
 * The look of every page a unit opens, most often on a phone: one column, large tap targets, inputs as wide as the
 * screen, a clear banner for what is overdue. Inline, as the pages' policy allows styles only there.
 */
const PAGE_STYLE = `
body{font-family:"Noto Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;color:#1f2933;background:#f5f7fa;margin:0;line-height:1.6}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.3rem;margin:.5rem 0 1rem}
.box{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:.9rem 1rem;margin:0 0 1rem}
.banner{border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem;font-weight:600}
.banner.overdue{background:#fee4e2;color:#b42318;border:1px solid #fda29b}
.banner.done{background:#ecfdf3;color:#067647;border:1px solid #6ce9a6}
.banner.info{background:#eff8ff;color:#175cd3;border:1px solid #84caff}
label{display:block;font-weight:600;margin:.9rem 0 .3rem}
.hint{font-weight:400;color:#616e7c;font-size:.9rem}
.req{color:#b42318}
input,textarea,select{box-sizing:border-box;width:100%;font:inherit;font-size:1rem;padding:.6rem;border:1px solid #9fb3c8;border-radius:6px;background:#fff}
textarea{min-height:6rem}
button{width:100%;font:inherit;font-size:1.05rem;padding:.8rem;margin-top:1.2rem;border:0;border-radius:6px;background:#0b5cad;color:#fff}
button:disabled{opacity:.6}
dl{margin:0}dt{color:#616e7c;font-size:.9rem;margin-top:.5rem}dd{margin:0;white-space:pre-wrap}
#upload-status{color:#175cd3;margin-top:.5rem}
.filebutton{display:inline-block;font-weight:600;color:#0b5cad;background:#fff;border:1px solid #0b5cad;border-radius:6px;padding:.6rem 1rem;margin:0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
ul.files{padding-left:1.2rem;margin:.4rem 0}
a{color:#0b5cad}`;

export function page(title: string, body: string, options: { script?: string } = {}): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style>${options.script ? `<script type="module" src="${escapeHtml(options.script)}"></script>` : ''}</head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

/** A browser following a link, or one of our HTML forms being posted. */
export function wantsHtml(req: Pick<ApiRequest, 'headers' | 'method'>): boolean {
  return (
    (req.headers.accept ?? '').includes('text/html') ||
    (req.method === 'POST' &&
      (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
  );
}

const TITLE_BY_STATUS: Record<number, string> = {
  400: '填写内容有误',
  403: '无权办理',
  404: '未找到',
  409: '当前不能办理',
  410: '链接已过期',
  422: '未能办理',
};

/**
 * An error as a page: the same status and Chinese message the JSON answer carries (respond.ts's errorBody stays
 * the one place errors are mapped), with the fields it names given by their labels, and a way back.
 */
export function errorPage(
  err: unknown,
  log: (e: unknown) => void,
  options: { labels?: Record<string, string>; back?: { href: string; text: string } } = {},
): ApiResult {
  const { status, body } = errorBody(err, log);
  // Each problem, under the name the page gives its field (the problems themselves are in Chinese).
  const problems = [
    ...new Set(
      body.issues.map((i) => {
        const label = options.labels?.[i.field];
        return label && !i.problem.includes(label) ? `${label}：${i.problem}` : i.problem;
      }),
    ),
  ];
  const parts = [
    `<div class="banner overdue" role="alert">${escapeHtml(body.message)}</div>`,
    problems.length > 0
      ? `<div class="box"><ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></div>`
      : '',
    // A form can be corrected and sent again; a link that is forged, expired or unknown cannot.
    options.back && [400, 409, 422].includes(status)
      ? `<p><a href="${escapeHtml(options.back.href)}">${escapeHtml(options.back.text)}</a></p>`
      : '',
    [403, 404, 410].includes(status) ? '<p>如需继续办理，请联系县安委办。</p>' : '',
  ];
  return html(status, page(TITLE_BY_STATUS[status] ?? '出错了', parts.join('')));
}
