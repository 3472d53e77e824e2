import ExcelJS from 'exceljs';
import { toCsv } from '../core/csv.ts';
import { binary, text } from './respond.ts';
import { XLSX_TYPE } from './schemas.ts';
import type { ApiResult } from './types.ts';

/** One table for Excel: the header in bold, frozen and filterable, columns wide enough for Chinese text. */
export async function tableWorkbook(
  title: string,
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'safeduty';
  wb.title = title;
  // Excel limits a sheet name to 31 characters and forbids some punctuation.
  const ws = wb.addWorksheet(title.replace(/[\\/?*[\]:]/g, ' ').slice(0, 31), {
    views: [{ state: 'frozen', ySplit: 1 }],
    pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 },
  });
  ws.addRow([...header]).font = { bold: true };
  for (const r of rows) ws.addRow([...r]);
  ws.columns.forEach((c, i) => {
    const longest = Math.max(
      ...[header[i] ?? '', ...rows.slice(0, 500).map((r) => String(r[i] ?? ''))].map((v) =>
        // A Chinese character takes about two columns.
        [...v].reduce((n, ch) => n + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0),
      ),
    );
    c.width = Math.min(60, Math.max(8, longest + 2));
  });
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: header.length } };
  ws.pageSetup.printTitlesRow = '1:1';
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** A table as a download: CSV (UTF-8 with the byte order mark Excel needs) or an .xlsx workbook. */
export async function tableDownload(
  format: 'csv' | 'xlsx',
  file: { title: string; name: string },
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): Promise<ApiResult> {
  // RFC 6266: an ASCII fallback name, and the Chinese one for browsers that read filename*.
  const disposition = (ext: string) =>
    `attachment; filename="${file.name}.${ext}"; filename*=UTF-8''${encodeURIComponent(`${file.title}.${ext}`)}`;
  if (format === 'csv')
    return text(
      200,
      toCsv(
        [...header],
        rows.map((r) => [...r]),
      ),
      'text/csv; charset=utf-8',
      {
        'content-disposition': disposition('csv'),
      },
    );
  return binary(200, await tableWorkbook(file.title, header, rows), XLSX_TYPE, {
    'content-disposition': disposition('xlsx'),
  });
}
