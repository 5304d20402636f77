// The range widget's geometry. ODK ranges may run downwards (start 10, end 0): the
// slider then starts at 10 on the reading side, as in ODK Collect.

export interface RangeSpec {
  min: number;
  max: number;
  step: number;
  /** `start` is above `end`: the slider's start side shows the larger number. */
  reversed: boolean;
  /** The numbers written at the slider's start and end sides. */
  startLabel: string;
  endLabel: string;
}

/** The slider for a range field; a form without bounds gets ODK's default 0–10 by 1. */
export function rangeSpec(r: { start: number; end: number; step: number } | null | undefined): RangeSpec {
  const start = Number.isFinite(r?.start) ? r!.start : 0;
  const end = Number.isFinite(r?.end) ? r!.end : 10;
  const span = Math.abs(end - start);
  // A step the slider cannot use (zero, negative, wider than the range) becomes one that
  // still lets every bound be chosen; the engine reports the form's problem itself.
  const step = r && r.step > 0 && r.step <= (span || r.step) ? r.step : span > 0 ? Math.min(1, span) : 1;
  return {
    min: Math.min(start, end),
    max: Math.max(start, end),
    step,
    reversed: start > end,
    startLabel: String(start),
    endLabel: String(end),
  };
}
