// The overview's answer (GET /overview): plain types, shared by the API and the console, which imports nothing else.

export interface Tally {
  /** Units that owe the cycle. */
  responsible: number;
  onTime: number;
  late: number;
  missing: number;
  /** On time ÷ responsible (null when nobody owes anything). */
  onTimeRate: number | null;
  /** On time or late ÷ responsible. */
  doneRate: number | null;
}

export interface CycleStanding extends Tally {
  dutyId: string;
  titleZh: string;
  periodKey: string;
  periodZh: string;
  deadline: string;
  status: string;
}

export interface PlaceStanding extends Tally {
  id: string;
  name: string;
}

export interface Overview {
  asOf: string;
  today: string;
  week: { key: string; start: string; end: string };
  /** Open cycles due today, and due this week (today's included). */
  dueToday: CycleStanding[];
  dueThisWeek: CycleStanding[];
  /** Each duty's current period: its latest cycle. */
  duties: CycleStanding[];
  /**
   * Each duty's latest period already due, its units by the town they are in and the department that supervises
   * them (worst on-time rate first).
   */
  towns: PlaceStanding[];
  departments: PlaceStanding[];
  /** Cycles due in each of the recent weeks (up to now), oldest first. */
  trend: (Tally & { week: string; start: string; end: string; cycles: number })[];
  overdue: { total: number; byLevel: Record<string, number> };
  cases: {
    open: number;
    byStage: { type: string; typeTitleZh: string; stageTitleZh: string; count: number }[];
  };
  undeliverable: {
    count: number;
    entries: { unitId: string; name: string; position: string; address: string; reasonZh: string }[];
  };
}
