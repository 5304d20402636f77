// Counting the responses in an export while it streams, for the progress bar. JSON and
// GeoJSON exports put one response per line after an opening line; the CSV export is a zip
// whose main FORM.csv has a header line and one line per response, counted by inflating the
// zip as it arrives (fflate's streaming unzip), without keeping the inflated text.
import { Unzip, UnzipInflate } from 'fflate';

export interface RowCounter {
  push(chunk: Uint8Array): void;
  /** Responses seen so far. */
  readonly rows: number;
}

function countNewlines(chunk: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) n++;
  return n;
}

/** JSON (`[` line, then one item per line) and GeoJSON (`{…"features":[` line, then one
 * feature per line): every line that starts with `{` after a newline is a response. */
export function lineCounter(): RowCounter {
  let items = 0;
  let lastWasNewline = false;
  return {
    push(chunk) {
      for (let i = 0; i < chunk.length; i++) {
        if (lastWasNewline && chunk[i] === 123) items++;
        lastWasNewline = chunk[i] === 10;
      }
    },
    get rows() {
      return items;
    },
  };
}

/** The CSV zip: lines of `{form}.csv` (the main table; repeats are in other files) minus its header. */
export function csvZipCounter(form: string): RowCounter {
  let lines = 0;
  const unzip = new Unzip((file) => {
    if (file.name !== `${form}.csv`) return;
    file.ondata = (err, data) => {
      if (!err) lines += countNewlines(data);
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  return {
    push(chunk) {
      unzip.push(chunk);
    },
    get rows() {
      return Math.max(lines - 1, 0);
    },
  };
}

/** A fraction 0…1 of the export done (null when the total is not known). */
export function progressOf(rows: number, total: number | null): number | null {
  if (total === null) return null;
  if (total === 0) return 1;
  return Math.min(rows / total, 1);
}
