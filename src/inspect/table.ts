/** A plain-text table for people: fixed column widths, one line per record, long cells cut with "…". */

export interface Column<T> {
  title: string;
  width: number;
  cell(record: T): string | number | null;
  /** Numbers read better flush right. */
  right?: boolean;
}

/** One line of a cell: control characters and newlines become spaces, then it is cut to `width`. */
export function fit(value: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  const chars = [...flat];
  return chars.length <= width ? flat : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}

function pad(text: string, width: number, right = false): string {
  const room = width - [...text].length;
  if (room <= 0) return text;
  return right ? " ".repeat(room) + text : text + " ".repeat(room);
}

export function renderTable<T>(columns: readonly Column<T>[], records: readonly T[]): string {
  const line = (cells: string[]) => cells.join("  ").trimEnd();
  const head = line(columns.map((c) => pad(c.title, c.width, c.right)));
  const body = records.map((r) =>
    line(
      columns.map((c) => {
        const v = c.cell(r);
        return pad(fit(v === null ? "-" : String(v), c.width), c.width, c.right);
      }),
    ),
  );
  return [head, ...body].join("\n") + "\n";
}

/** "2026-12-05 00:51" (UTC): minutes are enough to tell records apart by eye. */
export function when(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}
