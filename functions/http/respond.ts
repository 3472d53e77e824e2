import { ZodError } from 'zod';
import { CalendarError } from '../../workflows/calendar.ts';
import { UnknownDutyError } from '../../workflows/catalog/index.ts';
import { DomainError, fieldPath, type FieldIssue } from '../core/errors.ts';
import type { ApiResult } from './types.ts';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * A page. By default it runs no script and loads nothing; a page that uploads files (the report form) runs our own
 * script and may send files to the upload origin.
 */
export function html(status: number, body: string, options: { uploadsTo?: string } = {}): ApiResult {
  const csp = options.uploadsTo
    ? `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; script-src 'self'; connect-src 'self' ${options.uploadsTo}`
    : "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";
  return {
    statusCode: status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      // Pages are opened from links that carry a unit's token: never pass the address on to another site.
      'referrer-policy': 'no-referrer',
      ...SECURITY_HEADERS,
    },
    body,
  };
}

export function text(
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): ApiResult {
  return {
    statusCode: status,
    headers: { 'content-type': contentType, ...SECURITY_HEADERS, ...headers },
    body,
  };
}

/** A file to download (an XLSX export): base64 in the event, as API Gateway and the local server pass it on. */
export function binary(
  status: number,
  bytes: Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): ApiResult {
  return {
    statusCode: status,
    headers: { 'content-type': contentType, ...SECURITY_HEADERS, ...headers },
    body: bytes.toString('base64'),
    isBase64Encoded: true,
  };
}

/** Zod issues as field issues; an unknown-keys issue names each unknown field on its own. */
export function zodIssues(err: ZodError): FieldIssue[] {
  return err.issues.flatMap((i): FieldIssue[] =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: fieldPath([...i.path, k]), problem: '不认识的字段' }))
      : [{ field: fieldPath(i.path), problem: i.message }],
  );
}

export interface ErrorBody {
  error: string;
  message: string;
  issues: FieldIssue[];
}

/**
 * The one place errors are mapped: domain errors carry their status and a Chinese message; zod and calendar errors
 * are bad input; anything else is a 500 that says nothing about internals. JSON by errorResponse, a page by
 * pages.ts's errorPage.
 */
export function errorBody(err: unknown, log: (e: unknown) => void): { status: number; body: ErrorBody } {
  if (err instanceof DomainError) {
    return { status: err.status, body: { error: err.code, message: err.messageZh, issues: err.issues } };
  }
  if (err instanceof ZodError) {
    return {
      status: 400,
      body: { error: 'invalid-request', message: '请求内容有误', issues: zodIssues(err) },
    };
  }
  if (err instanceof CalendarError) {
    return {
      status: 400,
      body: {
        error: err.code,
        message: err.messageZh,
        issues: [{ field: err.code === 'invalid-period' ? 'periodKey' : 'date', problem: err.messageZh }],
      },
    };
  }
  if (err instanceof UnknownDutyError) {
    return {
      status: 404,
      body: {
        error: 'not-found',
        message: err.messageZh,
        issues: [{ field: 'dutyId', problem: '未知的职责' }],
      },
    };
  }
  log(err);
  return { status: 500, body: { error: 'internal', message: '服务器内部错误，请稍后重试', issues: [] } };
}

export function errorResponse(err: unknown, log: (e: unknown) => void): ApiResult {
  const { status, body } = errorBody(err, log);
  return json(status, body);
}
