import type { ApiRequest, ApiResult } from './types.ts';

export type RouteHandler = (req: ApiRequest) => Promise<ApiResult>;

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  handler: RouteHandler;
}

/** A small path router: `{name}` segments become params, matched against one path segment each. */
export class Router {
  private routes: Route[] = [];

  add(method: string, template: string, handler: RouteHandler): this {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${template.replace(/\{(\w+)\}/g, (_, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}/?$`,
    );
    this.routes.push({ method, template, pattern, names, handler });
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
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1] ?? '');
      });
      return { route, params };
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }

  list(): { method: string; template: string }[] {
    return this.routes.map(({ method, template }) => ({ method, template }));
  }
}
