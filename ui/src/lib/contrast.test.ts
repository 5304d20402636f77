// The stylesheet's colour pairs meet WCAG AA: text 4.5:1 (1.4.3), control borders,
// focus outlines and state dots 3:1 (1.4.11). Reads the real app.css, so a colour
// changed there is checked here.
import { describe, expect, it } from 'vitest';
import css from '../app.css?raw';
import { contrast } from './contrast';

/** `--name: #hex` from :root. */
const vars = Object.fromEntries(
  [...css.matchAll(/(--[a-z-]+):\s*(#[0-9a-fA-F]{3,6})\s*;/g)].map((m) => [m[1], m[2]]),
);

/** The colour `property` of the rule for exactly `selector`, variables resolved. */
function ruleColour(selector: string, property: string): string {
  const escaped = selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const rule = new RegExp(`(?:^|\\n|\\})\\s*${escaped}\\s*\\{([^}]*)\\}`).exec(css);
  if (!rule) throw new Error(`no rule for ${selector} in app.css`);
  const decl = new RegExp(`(?:^|;|\\s)${property}:\\s*([^;]+)`).exec(rule[1]);
  if (!decl) throw new Error(`${selector} sets no ${property}`);
  // `border: 2px solid #abc` → the colour.
  const value = decl[1].trim().split(/\s+/).pop()!;
  return colour(value);
}

function colour(value: string): string {
  const v = /^var\((--[a-z-]+)\)$/.exec(value);
  if (v) {
    if (!vars[v[1]]) throw new Error(`${v[1]} is not defined in :root`);
    return vars[v[1]];
  }
  return value;
}

const bg = colour('var(--bg)');
const panel = colour('var(--panel)');

const text: [string, string, string][] = [
  ['body text', colour('var(--fg)'), bg],
  ['body text on panels (header, cards, page bar)', colour('var(--fg)'), panel],
  ['muted text (hints, meta)', colour('var(--muted)'), bg],
  ['muted text on cards', colour('var(--muted)'), panel],
  ['links, secondary buttons, tabs', colour('var(--accent)'), bg],
  ['tabs in the header', ruleColour('.tab', 'color'), panel],
  ['primary buttons', colour('var(--accent-fg)'), colour('var(--accent)')],
  ['quick hide button', colour('var(--accent-fg)'), ruleColour('.safe-exit', 'background')],
  ['problems, required marks', colour('var(--danger)'), bg],
  ['the error bar', ruleColour('.error', 'color'), ruleColour('.error', 'background')],
  ['saved', colour('var(--ok)'), bg],
  ['a chosen answer', colour('var(--fg)'), ruleColour('.choice:has(input:checked)', 'background')],
  ['the privacy check', colour('var(--fg)'), ruleColour('.privacy', 'background')],
  ['the new-version offer', colour('var(--fg)'), ruleColour('.offers', 'background')],
  ['sync: waiting', ruleColour('.sync .phase-waiting', 'color'), bg],
  ['sync: flagged or failed record', ruleColour('.state-quarantined, .state-failed', 'color'), bg],
  ['the file chooser button', ruleColour('.file-button', 'color'), ruleColour('.file-button', 'background')],
];

const graphics: [string, string, string][] = [
  ['focus outline', colour('var(--focus)'), bg],
  ['focus outline on panels', colour('var(--focus)'), panel],
  ['text box borders', ruleColour('input, select, textarea', 'border'), bg],
  ['text box borders on cards', ruleColour('input, select, textarea', 'border'), panel],
  ['choice and point borders', colour('var(--edge)'), bg],
  ['the privacy check border', ruleColour('.privacy', 'border'), ruleColour('.privacy', 'background')],
  ['sync dot: waiting', ruleColour('.sync-indicator.phase-waiting::before', 'background'), bg],
  ['sync dot: ready', colour('var(--ok)'), bg],
  ['progress bar', colour('var(--accent)'), bg],
  ['file chooser border', ruleColour('.file-button', 'border'), bg],
];

describe('colour contrast (WCAG AA)', () => {
  it.each(text)('%s: text at least 4.5:1', (_, fg, back) => {
    expect(contrast(fg, back)).toBeGreaterThanOrEqual(4.5);
  });
  it.each(graphics)('%s: at least 3:1', (_, fg, back) => {
    expect(contrast(fg, back)).toBeGreaterThanOrEqual(3);
  });
  it('computes known ratios', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#fff', '#fff')).toBe(1);
    expect(contrast('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
    expect(() => contrast('red', '#fff')).toThrow(/not a #rrggbb/);
  });
});
