// What a roster import answers (POST /units/import): plain types, shared by the API, the CLI and the console.

/** One position whose person changes: who it was and who it will be. */
export interface ContactChange {
  position: 'contact' | 'principal' | 'staffRepresentative' | 'holder';
  before?: { name: string; email: string; phone?: string };
  after?: { name: string; email: string; phone?: string };
}

/** What an import does (or, in a dry run, would do) to one record. */
export interface RosterChange {
  kind: 'unit' | 'leader';
  id: string;
  name: string;
  action: 'created' | 'updated';
  /** The fields that change (for an update). */
  fields?: string[];
  /** People replaced on an existing entry: an import never overwrites them without saying so. */
  contacts?: ContactChange[];
}

export interface ImportSummary {
  dryRun: boolean;
  units: { created: number; updated: number; unchanged: number };
  leaders: { created: number; updated: number; unchanged: number };
  /** Existing units and leaders whose people change. */
  contactsReplaced: number;
  /** Every created or updated record (the first 2,000; `changesTotal` says how many there are). */
  changes: RosterChange[];
  changesTotal: number;
}

/** The people a roster entry names, as a reader calls them. */
export const POSITION_ZH = {
  contact: '联络员',
  principal: '主要负责人',
  staffRepresentative: '职工代表',
  holder: '本人',
} as const;

/** A unit's or leader's fields by their Chinese names (audit entries, import previews, problems). */
export const ROSTER_FIELD_ZH: Readonly<Record<string, string>> = {
  name: '名称',
  titleZh: '职务',
  kind: '单位类型',
  parentId: '上级单位',
  supervisingDepartmentId: '主管部门',
  leaderInChargeId: '分管县领导',
  contact: '联络员',
  principal: '主要负责人',
  staffRepresentative: '职工代表',
  holder: '任职人',
  attributes: '单位属性',
  active: '启用状态',
};

/** Attributes as people write a list of them in one cell or box: 县属监管企业、燃气. */
export function attributesOf(text: string): string[] {
  return text
    .split(/[、,，;；]+/)
    .map((a) => a.trim())
    .filter(Boolean);
}
