import { z } from 'zod';
import { loadCaseTypes, type CaseTypes } from '../../../workflows/cases/index.ts';
import { listWarnings } from '../../adapters/warning-store.ts';
import { logger } from '../../handlers/common.ts';
import { idSchema } from '../../core/model.ts';
import { issueWarning, liftWarning, warningActor, warningView } from '../../core/warnings.ts';
import { issueWarningBodySchema, liftWarningBodySchema } from '../../core/warnings-model.ts';
import { warningLevel } from '../../../workflows/warnings/index.ts';
import { requireAdmin, requireWarningIssuer } from '../auth.ts';
import { json } from '../respond.ts';
import type { Router } from '../router.ts';
import { noQuerySchema } from '../schemas.ts';

const tags = ['预警叫应'];
const log = { error: (message: string, extra: Record<string, unknown> = {}) => logger.error(message, extra) };
const paramsSchema = z.object({ id: idSchema.meta({ example: 'qx-20230705-baoyu-red' }) }).strict();

/** Warnings that must be answered within minutes (预警叫应): issued by 安委办 or by the issuing bureau's system. */
export function registerWarningRoutes(router: Router, types: CaseTypes = loadCaseTypes()): void {
  router.add(
    'POST',
    '/warnings',
    async (req) => {
      const issuer = requireWarningIssuer(req);
      noQuerySchema.parse(req.query);
      const body = issueWarningBodySchema.parse(req.body ?? {});
      const { warning, created } = await issueWarning(types, body, warningActor(issuer), req.route, log);
      return json(created ? 201 : 200, await warningView(types, warning.warningId));
    },
    {
      summary: 'Issue a warning that every listed unit must answer within minutes (预警叫应)',
      description:
        'Each unit (town, county department or enterprise) gets the warning at once, day or night, by SMS and ' +
        "email to its principal and contact, with a link to answer it with one tap. The answer is due within the level's " +
        'limit (red 15, orange 30, yellow 60, blue 120 minutes, workflows/warnings/levels.json); a unit that has ' +
        'not answered by then is escalated to its principal and the county leader in charge, 15 minutes later to ' +
        "the leader and 安委办. Each unit's answer is a `warning-response` case (`<warningId>-<n>`). Every unit is " +
        'checked before anything is written. With `warningId`, the same request again (a retry) completes the ' +
        'warning and answers 200 without warning anyone twice; another warning under that id is 409. Callable by ' +
        'an administrator, or on AWS by the issuing system with a client-credentials token of scope ' +
        '`safeduty/warnings` (README, "Warnings from another system").',
      tags,
      auth: 'admin-or-integration',
      query: noQuerySchema,
      body: issueWarningBodySchema,
      responses: {
        201: { description: "the warning with each unit's state (as GET /warnings/{id})" },
        200: { description: 'the same warning had been issued: as it stands' },
      },
      errors: [404, 409, 422],
    },
  );

  router.add(
    'GET',
    '/warnings',
    async (req) => {
      requireAdmin(req);
      noQuerySchema.parse(req.query);
      const warnings = await listWarnings();
      return json(200, {
        warnings: warnings.map((w) => ({
          warningId: w.warningId,
          level: w.level,
          levelZh: `${warningLevel(w.level).labelZh}预警`,
          title: w.title,
          issuedAt: w.issuedAt,
          issuedBy: w.issuedBy,
          respondBy: w.respondBy,
          validUntil: w.validUntil,
          units: w.units.length,
          ...(w.endedAt ? { endedAt: w.endedAt } : {}),
        })),
      });
    },
    {
      summary: 'The warnings issued, newest first',
      tags,
      auth: 'admin',
      query: noQuerySchema,
      responses: { 200: { description: '`{ warnings: [...] }`' } },
    },
  );

  router.add(
    'GET',
    '/warnings/{id}',
    async (req) => {
      requireWarningIssuer(req);
      const { id } = paramsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      return json(200, await warningView(types, id));
    },
    {
      summary: 'A warning: who answered when, who has not, how far each unit was escalated',
      description:
        'Per unit: `state` (responded, awaiting, not-responded once the warning ended, lifted), who answered and ' +
        'when, minutes from issue to answer, and the escalation level reached before the answer.',
      tags,
      auth: 'admin-or-integration',
      params: paramsSchema,
      query: noQuerySchema,
      responses: { 200: { description: 'the warning with `counts` and `units`' } },
      errors: [404],
    },
  );

  router.add(
    'POST',
    '/warnings/{id}/lift',
    async (req) => {
      const issuer = requireWarningIssuer(req);
      const { id } = paramsSchema.parse(req.params);
      noQuerySchema.parse(req.query);
      const body = liftWarningBodySchema.parse(req.body ?? {});
      await liftWarning(types, id, issuer, req.route, log, body.reason);
      return json(200, await warningView(types, id));
    },
    {
      summary: 'Lift a warning before its validity ends',
      description:
        'Units still to answer are released: nothing more is sent to them, and they are recorded as not having ' +
        'answered before the lifting. Answers stay. Lifting a lifted warning changes nothing.',
      tags,
      auth: 'admin-or-integration',
      params: paramsSchema,
      query: noQuerySchema,
      body: liftWarningBodySchema,
      responses: { 200: { description: 'the warning as it stands' } },
      errors: [404],
    },
  );
}
