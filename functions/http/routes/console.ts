import { z } from 'zod';
import { NotFoundError } from '../../core/errors.ts';
import { consoleAsset, type ConsoleAsset } from '../console-assets.ts';
import { json, text } from '../respond.ts';
import type { Router } from '../router.ts';

/**
 * The console's own security policy: its script and styles from here only, requests to this API (and, on AWS, to
 * the Cognito domain that exchanges the sign-in code), downloads as blobs.
 */
function consolePolicy(): string {
  const domain = process.env.CONSOLE_COGNITO_DOMAIN;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self'${domain ? ` https://${domain}` : ''}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

const assetParamsSchema = z
  .object({ asset: z.enum(['app.js', 'app.css', 'unit.js', 'config.json']) })
  .strict();

/** The administrators' console: a page and its script, served by the API itself, public (it holds no data). */
export function registerConsoleRoutes(router: Router): void {
  const serve = async (name: ConsoleAsset) => {
    const a = await consoleAsset(name);
    return text(200, a.body, a.type, {
      'content-security-policy': consolePolicy(),
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
  };

  router.add(
    'GET',
    '/',
    async () => ({
      statusCode: 302,
      headers: { location: '/console', 'cache-control': 'no-store' },
      body: '',
    }),
    {
      summary: 'To the console',
      tags: ['控制台'],
      auth: 'public',
      responses: { 302: { description: 'redirect to /console' } },
    },
  );

  router.add(
    'GET',
    '/console',
    // With or without the slash (API Gateway routes `/console` exactly; the page names its files absolutely).
    async () => serve('index.html'),
    {
      summary: "The administrators' console (管理控制台)",
      description:
        'A page in Chinese over this API: overview, overdue ledger, cycles, roster, cases, deliveries and audit. ' +
        'Administrators sign in with the Cognito hosted UI on AWS, with the admin token locally.',
      tags: ['控制台'],
      auth: 'public',
      responses: { 200: { description: 'the page', contentType: 'text/html' } },
    },
  );

  router.add(
    'GET',
    '/console/{asset}',
    async (req) => {
      const parsed = assetParamsSchema.safeParse(req.params);
      if (!parsed.success) throw new NotFoundError('no such console file', '请求的地址不存在');
      const { asset } = parsed.data;
      if (asset !== 'config.json') return serve(asset);
      const domain = process.env.CONSOLE_COGNITO_DOMAIN;
      const clientId = process.env.CONSOLE_CLIENT_ID;
      return json(
        200,
        domain && clientId
          ? { signIn: 'cognito', local: false, cognito: { domain, clientId } }
          : { signIn: 'token', local: process.env.AUTH_MODE !== 'cognito' },
      );
    },
    {
      summary: "The console's script, styles and sign-in settings",
      tags: ['控制台'],
      auth: 'public',
      params: z.object({ asset: z.string().meta({ example: 'app.js' }) }).strict(),
      responses: { 200: { description: 'the file' } },
      errors: [404],
    },
  );
}
