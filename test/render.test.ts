import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clockText, fit, LiveScreen, paint, statusLine, timeline, visibleLength, wrapWords, type CanaryView, type ScreenStream } from '../cli/render.js';

const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]/g;
const strip = (s: string) => s.replace(ESCAPES, '');

// The demo and `watch` hand process.stdout to the screen (checked by tsc, not at run time).
const stdoutIsAScreen: ScreenStream = process.stdout;
void stdoutIsAScreen;

describe('paint and visibleLength', () => {
  it('colours by tone only when asked, and escapes take no columns', () => {
    expect(paint('ok', 'healthy', true)).toBe('\x1b[32mok\x1b[0m');
    expect(paint('ok', 'unhealthy', true)).toBe('\x1b[33mok\x1b[0m');
    expect(paint('ok', 'rolledBack', true)).toBe('\x1b[1;31mok\x1b[0m');
    expect(paint('ok', 'promoted', true)).toBe('\x1b[1;32mok\x1b[0m');
    expect(paint('ok', 'dim', true)).toBe('\x1b[2mok\x1b[0m');
    expect(paint('ok', 'plain', true)).toBe('ok');
    expect(paint('ok', 'rolledBack', false)).toBe('ok');
    expect(visibleLength(paint('███░░ 25 %', 'healthy', true))).toBe(10);
    expect(visibleLength('▸ 😀')).toBe(3);
  });
});

describe('fit', () => {
  it('cuts coloured text before the width, keeps escapes whole and resets', () => {
    expect(fit('\x1b[32mabcdef\x1b[0m', 4)).toBe('\x1b[32mabc…\x1b[0m');
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('abcd', 4)).toBe('abcd');
    expect(fit('abc', 0)).toBe('');
  });

  it('never exceeds the width, never cuts inside an escape, keeps a prefix of the text', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 8 }).map((s) => s.replace(/\x1b/g, '')),
      fc.constantFrom('\x1b[32m', '\x1b[1;31m', '\x1b[0m', '\x1b[2m', '█', '░', '…'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), fc.integer({ min: 0, max: 60 }), (pieces, width) => {
        const s = pieces.join('');
        const out = fit(s, width);
        expect(visibleLength(out)).toBeLessThanOrEqual(width);
        expect(strip(out)).not.toContain('\x1b');
        if (visibleLength(s) <= width) expect(out).toBe(s);
        else if (width > 0) {
          const coloured = /\x1b/.test(out);
          expect(out.endsWith(coloured ? '…\x1b[0m' : '…')).toBe(true);
          expect(strip(s).startsWith(strip(out).replace(/…$/, ''))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('wrapWords', () => {
  it('breaks only between words, continuations indented under the line\'s own indent', () => {
    expect(wrapWords('ROLLED BACK (CanaryRolledBack): alarm shop-web-5xx-rate went to ALARM', 32)).toBe('ROLLED BACK (CanaryRolledBack):\n  alarm shop-web-5xx-rate went\n  to ALARM');
    expect(wrapWords('  DNS: blue a 100 / green b 0', 17)).toBe('  DNS: blue a 100\n    / green b 0');
    expect(wrapWords('short\nlines stay', 80)).toBe('short\nlines stay');
  });

  it('a word longer than the line gets a line of its own, whole; colour does not count', () => {
    expect(wrapWords('a averyveryverylongword b', 8)).toBe('a\n  averyveryverylongword\n  b');
    const red = paint('ROLLED BACK', 'rolledBack', true);
    expect(wrapWords(`${red} now`, 15)).toBe(`${red} now`);
  });

  it('property: no line is longer than the width unless it is one word; the words are the same, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z-]{1,12}$/), { minLength: 1, maxLength: 30 }), fc.integer({ min: 10, max: 100 }), (words, width) => {
        const wrapped = wrapWords(words.join(' '), width);
        for (const line of wrapped.split('\n')) if (line.trim().includes(' ')) expect(visibleLength(line)).toBeLessThanOrEqual(width);
        expect(wrapped.split(/\s+/).filter(Boolean)).toEqual(words);
      }),
    );
  });
});

describe('clockText', () => {
  it('is +mm:ss and minutes grow past 99', () => {
    expect(clockText(0)).toBe('+00:00');
    expect(clockText(192_000)).toBe('+03:12');
    expect(clockText((123 * 60 + 5) * 1000)).toBe('+123:05');
  });
});

describe('statusLine', () => {
  const view: CanaryView = {
    pair: 'shop-web',
    state: 'RUNNING',
    step: 2,
    of: 4,
    greenPercent: 25,
    stateName: 'Wait before judging again',
    verdict: 'HEALTHY',
    bakeEndsAtMs: 1_065_000,
    nowMs: 1_000_000,
    elapsedMs: 192_000,
  };

  it('shows everything when there is room', () => {
    expect(statusLine(view, 200, false)).toBe('▸ +03:12  shop-web  step 2/4  green ███░░░░░░░  25 %  HEALTHY  bake 1:05 left  Wait before judging again');
    expect(statusLine({ ...view, elapsedMs: undefined, of: 0 }, 200, false)).toMatch(/^▸  shop-web  step 2\/\? /);
    expect(statusLine({ ...view, state: 'ROLLING_BACK' }, 200, false)).toContain('step 2/4  ROLLING BACK  green');
  });

  it('never exceeds the width for widths 20..200, whatever the names; colour adds no columns', () => {
    const states = ['IDLE', 'STARTING', 'RUNNING', 'AWAITING_APPROVAL', 'PROMOTING', 'ROLLING_BACK', 'PROMOTED', 'ROLLED_BACK', 'REFUSED'] as const;
    const longText = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ minLength: 100, maxLength: 400 }));
    fc.assert(
      fc.property(
        fc.record({
          pair: longText,
          stateName: fc.option(longText, { nil: undefined }),
          state: fc.constantFrom(...states),
          step: fc.nat(1000),
          of: fc.nat(1000),
          greenPercent: fc.integer({ min: 0, max: 100 }),
          verdict: fc.option(fc.constantFrom('HEALTHY' as const, 'UNHEALTHY' as const), { nil: undefined }),
          bakeEndsAtMs: fc.option(fc.integer({ min: 0, max: 10_000_000_000 }), { nil: undefined }),
          nowMs: fc.integer({ min: 0, max: 10_000_000 }),
          elapsedMs: fc.option(fc.nat(1_000_000_000), { nil: undefined }),
        }),
        fc.integer({ min: 20, max: 200 }),
        (v, width) => {
          const plain = statusLine(v, width, false);
          const coloured = statusLine(v, width, true);
          expect(visibleLength(plain)).toBeLessThanOrEqual(width);
          expect(visibleLength(coloured)).toBeLessThanOrEqual(width);
          expect(plain).not.toMatch(/[\x00-\x1f\x7f]/);
          expect(strip(coloured)).toBe(plain);
          expect(strip(coloured)).not.toContain('\x1b');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('drops the state name, then the bake time, then narrows the bar, then drops the pair, then cuts', () => {
    const seen = new Set<string>();
    for (let width = 200; width >= 20; width--) {
      const line = statusLine(view, width, false);
      expect(visibleLength(line)).toBeLessThanOrEqual(width);
      const hasName = line.includes('Wait before judging again');
      const hasBake = line.includes('bake 1:05 left');
      const bar = (line.match(/[█░]/g) ?? []).length;
      const hasPair = line.includes('shop-web');
      const cut = line.endsWith('…');
      if (!hasBake) expect(hasName).toBe(false);
      if (bar < 10) expect(hasBake).toBe(false);
      if (!hasPair) expect(bar).toBe(0);
      if (cut) expect(hasPair).toBe(false);
      seen.add(`${hasName}/${hasBake}/${bar}/${hasPair}/${cut}`);
    }
    // Every stage happens on the way down.
    expect([...seen]).toEqual([
      'true/true/10/true/false',
      'false/true/10/true/false',
      ...[10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((bar) => `false/false/${bar}/true/false`),
      'false/false/0/false/false',
      'false/false/0/false/true',
    ]);
  });

  it('has no escape codes without colour, and colours by verdict and state with it', () => {
    expect(statusLine(view, 200, false)).not.toContain('\x1b');
    expect(statusLine({ ...view, state: 'ROLLED_BACK', verdict: 'UNHEALTHY' }, 200, false)).not.toContain('\x1b');
    const healthy = statusLine(view, 200, true);
    expect(healthy).toContain('\x1b[32mHEALTHY\x1b[0m');
    expect(healthy).toContain('\x1b[2mshop-web\x1b[0m');
    expect(visibleLength(healthy)).toBe(visibleLength(statusLine(view, 200, false)));
    expect(statusLine({ ...view, verdict: 'UNHEALTHY' }, 200, true)).toContain('\x1b[33mUNHEALTHY\x1b[0m');
    expect(statusLine({ ...view, state: 'ROLLED_BACK' }, 200, true)).toContain('\x1b[1;31mROLLED BACK\x1b[0m');
    expect(statusLine({ ...view, state: 'ROLLING_BACK' }, 200, true)).toContain('\x1b[1;31mshop-web\x1b[0m');
    expect(statusLine({ ...view, state: 'PROMOTED' }, 200, true)).toContain('\x1b[1;32mPROMOTED\x1b[0m');
  });

  it('counts the bake down from bakeEndsAtMs - nowMs, and omits it when unknown or over', () => {
    expect(statusLine(view, 200, false)).toContain('  bake 1:05 left  ');
    expect(statusLine({ ...view, nowMs: 1_064_500 }, 200, false)).toContain('  bake 0:01 left  ');
    expect(statusLine({ ...view, bakeEndsAtMs: 1_000_000 + 754_000 }, 200, false)).toContain('  bake 12:34 left  ');
    expect(statusLine({ ...view, nowMs: 1_065_000 }, 200, false)).not.toContain('bake');
    expect(statusLine({ ...view, nowMs: 2_000_000 }, 200, false)).not.toContain('bake');
    expect(statusLine({ ...view, bakeEndsAtMs: undefined }, 200, false)).not.toContain('bake');
  });
});

describe('timeline', () => {
  const run = [
    { atMs: 30_000, green: 10 },
    { atMs: 300_000, green: 25 },
    { atMs: 600_000, green: 50 },
    { atMs: 910_000, green: 0 },
  ];

  it('keeps the demo look: one row per level, filled while green is at or above it', () => {
    const lines = timeline([{ atMs: 0, green: 10 }, { atMs: 500, green: 100 }], 1000, { width: 18 });
    expect(lines.slice(0, 3)).toEqual([' 100 % |     █████', '  10 % |██████████', '     0 +----------']);
    // Unsorted points; 0 before the first one.
    expect(timeline([{ atMs: 60_000, green: 50 }, { atMs: 10_000, green: 0 }], 120_000, { width: 18 })[0]).toBe('  50 % |     █████');
  });

  it('fits 80 columns by default, a smaller width when asked, and labels the ends of the axis', () => {
    const lines = timeline(run, 7_380_000, { rollbackAtMs: 7_380_000 });
    expect(lines.length).toBe(3 + 3);
    for (const line of lines) expect(visibleLength(line)).toBeLessThanOrEqual(80);
    expect(lines[3]).toBe(`     0 +${'-'.repeat(60)}`);
    expect(lines.at(-1)!.startsWith('        00:00')).toBe(true);
    expect(lines.at(-1)!.endsWith('123:00')).toBe(true);
    fc.assert(
      fc.property(
        fc.array(fc.record({ atMs: fc.nat(10_000_000), green: fc.integer({ min: 0, max: 100 }) }), { maxLength: 8 }),
        fc.nat(10_000_000),
        fc.option(fc.nat(10_000_000), { nil: undefined }),
        fc.integer({ min: 1, max: 200 }),
        (points, endMs, rollbackAtMs, width) => {
          for (const line of timeline(points, endMs, { width, rollbackAtMs })) expect(visibleLength(line)).toBeLessThanOrEqual(width);
          for (const line of timeline(points, endMs, { rollbackAtMs })) expect(visibleLength(line)).toBeLessThanOrEqual(80);
        },
      ),
    );
  });

  it('puts ▲ rollback under the axis at the column of that time, with ╳ in that column of the chart', () => {
    const lines = timeline(run, 1_200_000, { rollbackAtMs: 910_000 });
    // 60 columns over 1200 s: 910 s is column round(910 / 1200 * 59) = round(44.74) = 45, after the
    // 8-column gutter. Green is already 0 there, so the ╳ shows the 50 % rolled back from.
    const column = 8 + 45;
    const marker = lines[4]!;
    expect(lines[3]).toMatch(/^ {5}0 \+-+$/);
    expect(marker).toBe(`${' '.repeat(column)}▲ rollback`);
    const chart = lines.slice(0, 3);
    expect(chart.map((row) => row.slice(0, 6))).toEqual(['  50 %', '  25 %', '  10 %']);
    for (const row of chart) {
      expect([...row][column]).toBe('╳');
      expect([...row][column - 1]).toBe('█');
      expect([...row].filter((c) => c === '╳')).toHaveLength(1);
    }
  });

  it('shows only ▲ when the word does not fit, and no marker without rollbackAtMs', () => {
    const narrow = timeline(run, 1_200_000, { width: 40, rollbackAtMs: 1_200_000 });
    expect(narrow[4]).toBe(`${' '.repeat(8 + 31)}▲`);
    for (const line of narrow) expect(visibleLength(line)).toBeLessThanOrEqual(40);

    const plain = timeline(run, 1_200_000);
    expect(plain).toHaveLength(3 + 2);
    expect(plain.join('\n')).not.toMatch(/[▲╳]/);
  });
});

/** A stream that records its writes and lets the test resize it. */
function fakeStream(columns?: number) {
  const listeners = new Set<() => void>();
  const writes: string[] = [];
  const stream = {
    isTTY: true,
    columns,
    writes,
    listeners,
    write: (s: string) => (writes.push(s), true),
    on: (_event: 'resize', cb: () => void) => listeners.add(cb),
    off: (_event: 'resize', cb: () => void) => listeners.delete(cb),
    resize(to: number) {
      stream.columns = to;
      for (const cb of listeners) cb();
    },
  };
  return stream;
}

const CLEAR = '\r\x1b[2K';
const long = `status ${'x'.repeat(200)}`;

describe('LiveScreen', () => {
  it('redraws the status line in place, cut to columns - 1', () => {
    const out = fakeStream(30);
    const screen = new LiveScreen(out, { live: true });
    screen.status(long);
    expect(out.writes).toEqual([`${CLEAR}${fit(long, 29)}`]);
    expect(visibleLength(out.writes[0]!.slice(1))).toBe(29);

    const wide = fakeStream();
    new LiveScreen(wide, { live: true }).status(long);
    expect(visibleLength(wide.writes[0]!.slice(1))).toBe(79);
  });

  it('prints a line above the status line, fitted, then redraws the status', () => {
    const out = fakeStream(30);
    const screen = new LiveScreen(out, { live: true });
    screen.line('first');
    expect(out.writes.at(-1)).toBe(`${CLEAR}first\n`);
    screen.status('▸ step 1/4');
    screen.line(`line ${'y'.repeat(100)}`);
    expect(out.writes.at(-1)).toBe(`${CLEAR}line ${'y'.repeat(24)}…\n${CLEAR}▸ step 1/4`);
  });

  it('fits the status line to the new width on resize, and stops listening when done', () => {
    const out = fakeStream(30);
    const screen = new LiveScreen(out, { live: true });
    expect(out.listeners.size).toBe(1);
    screen.status(long);
    out.resize(20);
    expect(out.writes).toHaveLength(2);
    expect(visibleLength(out.writes[1]!.slice(1))).toBe(19);
    out.resize(100);
    expect(out.writes.at(-1)).toBe(`${CLEAR}${fit(long, 99)}`);

    screen.done();
    expect(out.writes.at(-1)).toBe(CLEAR);
    expect(out.listeners.size).toBe(0);
    const count = out.writes.length;
    out.resize(40);
    expect(out.writes).toHaveLength(count);
  });

  it('when not live, prints lines as they are, no status and no escapes', () => {
    const out = fakeStream(30);
    const screen = new LiveScreen(out, { live: false });
    screen.status(long);
    screen.line(long);
    out.resize(20);
    screen.done();
    expect(out.writes).toEqual([`${long}\n`]);
    expect(out.listeners.size).toBe(0);
  });
});
