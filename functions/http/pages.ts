/**
 * The pages a unit opens from an email link. A browser asks for HTML (its Accept header names text/html) and gets a
 * page in Chinese, errors included; API clients get JSON as before.
 */
import { escapeHtml } from '../core/html.ts';
import { errorBody, html } from './respond.ts';
import type { ApiRequest, ApiResult } from './types.ts';

export { escapeHtml };

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.6"><h1 style="font-size:1.3rem">${escapeHtml(title)}</h1>${body}</body></html>`;
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
  const labels = [...new Set(body.issues.map((i) => options.labels?.[i.field]).filter(Boolean))];
  const parts = [
    `<p>${escapeHtml(body.message)}</p>`,
    labels.length > 0 ? `<p>请检查：${labels.map((l) => escapeHtml(l!)).join('、')}</p>` : '',
    // A form can be corrected and sent again; a link that is forged, expired or unknown cannot.
    options.back && [400, 409, 422].includes(status)
      ? `<p><a href="${escapeHtml(options.back.href)}">${escapeHtml(options.back.text)}</a></p>`
      : '',
    [403, 404, 410].includes(status) ? '<p>如需继续办理，请联系县安委办。</p>' : '',
  ];
  return html(status, page(TITLE_BY_STATUS[status] ?? '出错了', parts.join('')));
}
