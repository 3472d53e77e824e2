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
