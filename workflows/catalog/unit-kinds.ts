// Unit kinds and their Chinese names: plain data (no zod), shared by the catalog, the API and the console.

/**
 * Kinds of responsible unit named by the notice. A county leader (县领导) is a roster entry of its own so that a
 * duty owed by each leader in person (the monthly field visit) can name the one who did not do it.
 */
export const UNIT_KINDS = [
  'town',
  'county-department',
  'enterprise',
  'site',
  'county-body',
  'county-leader',
] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];

export const UNIT_KIND_ZH: Record<UnitKind, string> = {
  town: '镇（经开区）',
  'county-department': '县直部门',
  enterprise: '企业',
  site: '班组场点',
  'county-body': '县级议事机构',
  'county-leader': '县领导',
};

/** The kinds a person may write, for messages: `乡镇、县直部门、企业、班组场点、县级议事机构、县领导`. */
export const UNIT_KIND_CHOICES_ZH = '乡镇、县直部门、企业、班组场点、县级议事机构、县领导';
/** Unit kinds as people write them — the Chinese names (乡镇, 企业 …) or the codes — to their codes. */
const KIND_BY_NAME: Record<string, UnitKind> = {
  乡镇: 'town',
  镇: 'town',
  经开区: 'town',
  县直部门: 'county-department',
  部门: 'county-department',
  企业: 'enterprise',
  班组场点: 'site',
  场点: 'site',
  县级议事机构: 'county-body',
  县领导: 'county-leader',
  县领导干部: 'county-leader',
  县级领导: 'county-leader',
  县级领导干部: 'county-leader',
  ...Object.fromEntries(Object.entries(UNIT_KIND_ZH).map(([k, zh]) => [zh, k as UnitKind])),
  ...Object.fromEntries(UNIT_KINDS.map((k) => [k, k])),
};
export function unitKindOf(name: string): UnitKind | undefined {
  return KIND_BY_NAME[name.trim()];
}
