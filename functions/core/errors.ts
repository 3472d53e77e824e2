/**
 * Typed domain errors. Each carries its HTTP status and a Chinese message for the user; the mapping to HTTP
 * responses lives in one place (functions/http/respond.ts) and never leaks internals.
 */
export interface FieldIssue {
  field: string;
  problem: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  constructor(
    message: string,
    readonly messageZh: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly code = 'invalid-request';
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly code = 'unauthorized';
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly code = 'forbidden';
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly code = 'not-found';
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly code = 'conflict';
}

export class GoneError extends DomainError {
  readonly status = 410;
  readonly code = 'link-expired';
}

export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly code = 'payload-too-large';
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
  readonly code = 'unsupported-media-type';
}

export class UnprocessableError extends DomainError {
  readonly status = 422;
  readonly code = 'unprocessable';
}

/** A stored record that does not match its schema: reported and skipped, never crashed on. */
export class BadRecordError extends Error {
  constructor(
    readonly key: string,
    readonly problems: string,
  ) {
    super(`bad record ${key}: ${problems}`);
    this.name = 'BadRecordError';
  }
}

/** Turns zod issues into field issues with dotted/bracketed paths, e.g. `escalation[1].offset.amount`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(body)';
}
