// The responses the end-to-end tests sync into the server, made deterministically, and what
// the console must show for them (so every check compares with the data, not with itself).

/** SplitMix32-style generator: the same data on every run. */
function generator(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  return {
    below: (n) => next() % n,
    pick(items) {
      return items[next() % items.length];
    },
    uuid() {
      const h = Array.from({ length: 4 }, () => next().toString(16).padStart(8, '0')).join('');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
  };
}

export const FORM = 'wash_survey';
export const VERSION = '1';
export const SEARCH_WORD = 'Zanzibarika';
export const CONFLICT_VILLAGE = 'Kisumu Ndogo';
const WATER = ['piped', 'well', 'river', 'truck'];
const PROBLEMS = ['dirty', 'far', 'costly'];
const NAMES = ['Grace', 'Paul', 'Achieng', 'Fatuma', 'Amina', 'Peter', 'Otieno', 'Wanjiru'];

export function ageBand(age) {
  if (age <= 14) return '0-14';
  if (age <= 17) return '15-17';
  if (age <= 24) return '18-24';
  if (age <= 49) return '25-49';
  return '50+';
}

/** Villages around Lake Victoria and the Rift Valley; points fall within a few km of one. */
const PLACES = [
  [-0.09, 34.77], [0.52, 35.27], [-1.29, 36.82], [0.05, 32.46], [-0.37, 35.28], [1.02, 35.0], [-1.5, 33.8], [0.3, 32.58],
];
function gps(g) {
  const [lat, lon] = g.pick(PLACES);
  const jitter = () => (g.below(1000) - 500) / 10000;
  return `${(lat + jitter()).toFixed(5)} ${(lon + jitter()).toFixed(5)} 1140 5`;
}

/**
 * `n` responses split over two devices. Response 7 has the search word in its village;
 * response 0 is sent incomplete (no water source), so the server quarantines it; response 1
 * is later edited concurrently by the other device (a conflict on its village).
 */
export function makeResponses(n) {
  const g = generator(20261126);
  const base = Date.UTC(2026, 10, 20, 8, 0, 0);
  const out = [];
  for (let i = 0; i < n; i++) {
    const sex = g.pick(['female', 'male']);
    const age = 10 + g.below(70);
    const disability = g.below(6) === 0 ? 'yes' : 'no';
    // Water trucks are rare, so some of their cells are small and must show as "< 5".
    const water = i === 0 ? null : g.below(100) < 2 ? 'truck' : g.pick(WATER.slice(0, 3));
    const problems = PROBLEMS.filter(() => g.below(3) === 0);
    const members = g.below(4);
    const set = {
      '/village': i === 7 ? `${SEARCH_WORD} East` : `Kijiji ${g.below(40)}`,
      '/resp_name': `${g.pick(NAMES)} ${g.pick(['Abdi', 'Okello', 'Mwangi'])}`,
      '/sex': sex,
      '/age': String(age),
      '/disability': disability,
      '/gps': gps(g),
      '/member[]': String(members),
    };
    if (water) set['/water'] = water;
    if (problems.length > 0) set['/problems'] = problems.join(' ');
    for (let m = 1; m <= members; m++) {
      set[`/member[${m}]/member_name`] = g.pick(NAMES);
      set[`/member[${m}]/member_age`] = String(1 + g.below(80));
    }
    out.push({
      index: i,
      id: g.uuid(),
      revision: g.uuid(),
      device: i % 3 === 0 ? 'B' : 'A',
      at: base + i * 97_000,
      set,
      sex,
      age,
      disability,
      water,
      problems,
    });
  }
  return out;
}

/** A device's first (and only) edit of a response, as the app sends it. */
export function revisionOf(r, actor) {
  return {
    id: r.revision,
    response: r.id,
    form: FORM,
    version: VERSION,
    actor,
    seq: 1,
    hlc: `${r.at}.0`,
    seen: {},
    set: r.set,
    status: 'finalized',
  };
}

/** The other device's edit of `r`'s village, made without seeing the first: a conflict. */
export function conflictingEdit(r, actor, id) {
  return {
    id,
    response: r.id,
    form: FORM,
    version: VERSION,
    actor,
    seq: 1,
    hlc: `${r.at + 3_600_000}.0`,
    seen: {},
    set: { '/village': CONFLICT_VILLAGE },
  };
}

/** A count as the dashboard shows it: 1–4 suppressed as "< 5", zero as 0. */
export function shownCount(n) {
  return n >= 1 && n <= 4 ? '< 5' : n.toLocaleString('en');
}

/** Expected dashboard cells of a choice question: `${dimension}|${group}|${choice}` → count. */
export function expectedCells(responses, question) {
  const cells = new Map();
  const add = (key) => cells.set(key, (cells.get(key) ?? 0) + 1);
  for (const r of responses) {
    const chosen = question === 'water' ? (r.water ? [r.water] : []) : r.problems;
    for (const choice of chosen) {
      add(`total|total|${choice}`);
      add(`sex|${r.sex}|${choice}`);
      add(`age_band|${ageBand(r.age)}|${choice}`);
      add(`disability|${r.disability}|${choice}`);
    }
  }
  return cells;
}
