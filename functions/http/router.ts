import type { z } from 'zod';
import { UnsupportedMediaTypeError, ValidationError } from '../core/errors.ts';
import type { ApiRequest, ApiResult } from './types.ts';

export type RouteHandler = (req: ApiRequest) => Promise<ApiResult>;

/** Who may call a route: an administrator, a unit through its signed link, either of them, or anyone. */
/** `admin-or-integration`: also a machine client with the warnings scope (an issuing bureau's system). */
export type RouteAuth = 'admin' | 'link' | 'admin-or-link' | 'admin-or-integration' | 'public';

/**
 * What /openapi.json says about a route. The schemas are the ones the route validates with, so the document
 * cannot drift from the behaviour.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  tags?: string[];
  auth: RouteAuth;
  /** Path parameters (a strict zod object; `.meta({ example })` on each field). */
  params?: z.ZodObject;
  /** Query parameters (a strict zod object). */
  query?: z.ZodObject;
  /** The JSON request body: a schema with `.meta({ id, example })`. */
  body?: z.ZodType;
  /** Other accepted request media types (CSV, HTML forms), each with an example. */
  altBodies?: { contentType: string; example: string; description?: string; binary?: boolean }[];
  /** Success responses: status → description and, when not JSON, the media type. */
  responses: Record<string, { description: string; contentType?: string; schema?: z.ZodType }>;
  /** Extra error statuses the route answers besides the common ones. */
  errors?: number[];
  /**
   * A page a unit opens from an email: a browser (or the page's own form) gets its errors as a Chinese page with a
   * way back to `back`, instead of JSON (functions/http/pages.ts).
   */
  page?: { back: (req: ApiRequest) => { href: string; text: string }; labels?: Record<string, string> };
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  handler: RouteHandler;
  doc?: RouteDoc;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed percent-escape is the client's mistake, never a server error.
    throw new ValidationError('malformed path', '请求地址的编码有误', [
      { field: '(path)', problem: '地址中的百分号编码有误' },
    ]);
  }
}

/** A small path router: `{name}` segments become params, matched against one path segment each. */
export class Router {
  private routes: Route[] = [];

  add(method: string, template: string, handler: RouteHandler, doc?: RouteDoc): this {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${template.replace(/\{(\w+)\}/g, (_, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}/?$`,
    );
    this.routes.push({ method, template, pattern, names, handler, ...(doc ? { doc } : {}) });
    return this;
  }

  /** The matching route, or which methods the path allows (for 405), or nothing (404). */
  match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        if (!allowed.includes(route.method)) allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => {
        params[n] = decodeSegment(m[i + 1] ?? '');
      });
      return { route, params };
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }

  /** Accepts the request's media type: JSON always, and the route's alternative bodies (CSV, forms). */
  static checkMediaType(doc: RouteDoc | undefined, contentType: string | undefined, rawBody: string): void {
    if (!doc || (!doc.body && !doc.altBodies) || rawBody.trim() === '') return;
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (type === '' || type === 'application/json' || type.endsWith('+json')) return;
    if (doc.altBodies?.some((a) => a.contentType === type)) return;
    const accepted = ['application/json', ...(doc.altBodies ?? []).map((a) => a.contentType)];
    throw new UnsupportedMediaTypeError(`unsupported media type ${type}`, '不支持该请求体格式', [
      { field: 'Content-Type', problem: `应为 ${accepted.join('、')} 之一` },
    ]);
  }

  list(): { method: string; template: string; doc?: RouteDoc }[] {
    return this.routes.map(({ method, template, doc }) => ({ method, template, ...(doc ? { doc } : {}) }));
  }
}
