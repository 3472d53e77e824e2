/**
 * The roster id of the county safety office (安委办): the last position of every ladder. Its own module, free of
 * imports, so the storage adapters can name it without depending on the core's directory (which reads through them).
 */
export function safetyOfficeUnitId(): string {
  return process.env.SAFETY_OFFICE_UNIT_ID ?? 'county-safety-office';
}
