import type { Catalog } from '../../workflows/catalog/index.ts';
import { UnknownDutyError } from '../../workflows/catalog/index.ts';
import type { Duty, UnitKind } from '../../workflows/catalog/schema.ts';
import { clock } from './clock.ts';

/**
 * The catalog a function works with: the deployment's duties (built in, or its catalog file) and the ad-hoc
 * duties administrators created at run time, which live in the table. Lookups stay synchronous, as everywhere
 * the catalog is used; `refresh` reads the ad-hoc duties again (at most every `ttlMs`, or at once when forced,
 * e.g. for a duty id this container has not seen yet).
 */
export interface LiveCatalog extends Catalog {
  refresh(options?: { force?: boolean }): Promise<void>;
  /** A duty this container just created or changed: visible at once, without waiting for a refresh. */
  put(duty: Duty): void;
}

export function liveCatalog(
  base: Catalog,
  load: () => Promise<Duty[]>,
  options: { ttlMs?: number; nowMs?: () => number } = {},
): LiveCatalog {
  const ttlMs = options.ttlMs ?? 30_000;
  // The domain clock: on a virtual clock the refreshes fall at the same virtual instants every run (a simulation
  // repeated in one process reads the same), and a clock set back (a new run) reads afresh.
  const nowMs = options.nowMs ?? (() => clock.nowMs());
  let adhoc = new Map<string, Duty>();
  let loadedAt = -Infinity;
  const all = (): Duty[] => [...base.duties, ...adhoc.values()];
  const get = (id: string): Duty | undefined => base.get(id) ?? adhoc.get(id);
  return {
    get duties() {
      return all();
    },
    sources: base.sources,
    get,
    require(id: string): Duty {
      const duty = get(id);
      if (duty === undefined) throw new UnknownDutyError(id);
      return duty;
    },
    forKind: (kind: UnitKind) => all().filter((d) => d.enabled && d.responsibleKinds.includes(kind)),
    async refresh({ force = false } = {}) {
      const age = nowMs() - loadedAt;
      if (!force && age >= 0 && age < ttlMs) return;
      const duties = await load();
      // Built-in ids win: an ad-hoc duty can never shadow one (creation refuses such ids anyway).
      adhoc = new Map(duties.filter((d) => base.get(d.id) === undefined).map((d) => [d.id, d]));
      loadedAt = nowMs();
    },
    put(duty: Duty) {
      if (base.get(duty.id) === undefined) adhoc.set(duty.id, duty);
    },
  };
}
