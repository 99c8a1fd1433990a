/**
 * Terminal rendering shared by the demo and the CLI's `watch` command: colours, width-safe
 * truncation, the one-line canary status, green's weight chart and a screen with a status line.
 */

/** What a piece of text means, which decides its colour. */
export type Tone = 'healthy' | 'unhealthy' | 'rolledBack' | 'promoted' | 'dim' | 'plain';

const RESET = '\x1b[0m';
const SGR: Record<Tone, string> = {
  healthy: '\x1b[32m',
  unhealthy: '\x1b[33m',
  rolledBack: '\x1b[1;31m',
  promoted: '\x1b[1;32m',
  dim: '\x1b[2m',
  plain: '',
};

/** One ANSI CSI escape sequence (colours, `\x1b[2K`, cursor moves). */
const ESCAPE = /\x1b\[[0-?]*[ -/]*[@-~]/g;

/** `text` in the tone's ANSI colour when `color` is true, unchanged otherwise. */
export function paint(text: string, tone: Tone, color: boolean): string {
  return color && SGR[tone] && text ? `${SGR[tone]}${text}${RESET}` : text;
}

/** Columns `s` takes on a terminal: code points, ANSI escape sequences excluded. */
export function visibleLength(s: string): number {
  return [...s.replace(ESCAPE, '')].length;
}

/**
 * `s` cut to at most `width` visible columns, ending with `…` when cut. Escape sequences are
 * kept whole, and a cut string that carried any is closed with a reset.
 */
export function fit(s: string, width: number): string {
  const max = Math.max(0, Math.floor(width));
  if (visibleLength(s) <= max) return s;
  if (max === 0) return '';
  let kept = '';
  let shown = 0;
  let coloured = false;
  for (const [token] of s.matchAll(/\x1b\[[0-?]*[ -/]*[@-~]|[\s\S]/gu)) {
    if (shown === max - 1) break;
    if (token.startsWith('\x1b[')) coloured = true;
    else shown += 1;
    kept += token;
  }
  return `${kept}…${coloured ? RESET : ''}`;
}

/**
 * `text` wrapped on word boundaries to at most `width` visible columns a line (escape sequences
 * do not count), each line of it on its own; a continuation keeps the line's own indent plus
 * `indent`. A word longer than a line is never broken: it gets a line of its own.
 */
export function wrapWords(text: string, width: number, indent = '  '): string {
  const max = Math.max(1, Math.floor(width));
  return text
    .split('\n')
    .flatMap((line) => {
      if (visibleLength(line) <= max) return [line];
      const lead = /^ */.exec(line)![0];
      const lines: string[] = [];
      let current = '';
      for (const word of line.slice(lead.length).split(' ')) {
        const start = lines.length ? lead + indent : lead;
        const next = current ? `${current} ${word}` : `${start}${word}`;
        if (current && visibleLength(next) > max) {
          lines.push(current);
          current = `${lead}${indent}${word}`;
        } else current = next;
      }
      return [...lines, current];
    })
    .join('\n');
}

/** `+mm:ss` from a duration in milliseconds; minutes grow past 99 (`+123:05`). */
export function clockText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `+${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** What the status line shows about one canary. */
/** `percent` of `width` cells filled: `███░░░░░░░`. */
export const bar = (percent: number, width: number): string => {
  const filled = Math.round((percent / 100) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
};

export interface CanaryView {
  pair: string;
  state: 'IDLE' | 'STARTING' | 'RUNNING' | 'AWAITING_APPROVAL' | 'PROMOTING' | 'ROLLING_BACK' | 'PROMOTED' | 'ROLLED_BACK' | 'REFUSED';
  step: number;
  of: number;
  greenPercent: number;
  /** The state machine's current state, e.g. `Wait before judging again`. */
  stateName?: string;
  verdict?: 'HEALTHY' | 'UNHEALTHY';
  bakeEndsAtMs?: number;
  /** The clock `bakeEndsAtMs` is compared with. */
  nowMs: number;
  /** Shown as `+mm:ss` when given. */
  elapsedMs?: number;
}

/** Control characters would move the cursor or break the line: shown as spaces. */
const printable = (s: string) => s.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');

/**
 * One line of at most `width` visible columns (meant for 20 and more), e.g.
 * `▸ +03:12  shop-web  step 2/4  green ███░░░░░░░  25 %  HEALTHY  bake 1:05 left  Wait before judging again`.
 * As the width shrinks it drops the state name, then the bake time, then narrows the bar
 * (down to none), then drops the pair, and finally cuts the line with `fit`.
 */
export function statusLine(view: CanaryView, width: number, color: boolean): string {
  const tone: Tone = view.state === 'ROLLED_BACK' || view.state === 'ROLLING_BACK' ? 'rolledBack' : view.state === 'PROMOTED' ? 'promoted' : 'dim';
  const left = view.bakeEndsAtMs === undefined ? 0 : Math.ceil((view.bakeEndsAtMs - view.nowMs) / 1000);
  const bake = left > 0 ? `bake ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left` : '';
  const percent = Math.min(100, Math.max(0, view.greenPercent));
  const compose = (o: { stateName: boolean; bake: boolean; bar: number; pair: boolean }) => {
    const parts: [string, Tone][] = [
      [view.elapsedMs === undefined ? '▸' : `▸ ${clockText(view.elapsedMs)}`, tone],
      [o.pair ? printable(view.pair) : '', tone],
      [`step ${view.step}/${view.of || '?'}`, tone],
      [view.state === 'RUNNING' ? '' : view.state.replace(/_/g, ' '), tone],
      [o.bar ? `green ${bar(percent, o.bar)} ${String(view.greenPercent).padStart(3)} %` : `green ${view.greenPercent} %`, tone],
      [view.verdict ?? '', view.verdict === 'HEALTHY' ? 'healthy' : 'unhealthy'],
      [o.bake ? bake : '', tone],
      [o.stateName ? printable(view.stateName ?? '') : '', tone],
    ];
    return parts
      .filter(([text]) => text)
      .map(([text, t]) => paint(text, t, color))
      .join('  ');
  };
  const layouts = [
    { stateName: true, bake: true, bar: 10, pair: true },
    { stateName: false, bake: true, bar: 10, pair: true },
    ...[10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((bar) => ({ stateName: false, bake: false, bar, pair: true })),
    { stateName: false, bake: false, bar: 0, pair: false },
  ];
  let line = '';
  for (const layout of layouts) {
    line = compose(layout);
    if (visibleLength(line) <= width) return line;
  }
  return fit(line, width);
}

const GUTTER = 8;

/**
 * Green's weight over time as a filled step chart, one row per level reached (`  25 % |████  `),
 * then the axis, a `▲ rollback` marker row when `rollbackAtMs` is given (that column of the chart
 * drawn with `╳` up to the weight rolled back from), and four `mm:ss` tick labels. The weight at
 * time t is the last point at or before t (0 before the first). Lines fit in `width` columns
 * (default 80); the chart is at most 60 columns wide after the 8-column gutter.
 */
export function timeline(points: { atMs: number; green: number }[], endMs: number, options: { width?: number; rollbackAtMs?: number } = {}): string[] {
  const total = Math.max(0, Math.floor(options.width ?? 80));
  const width = Math.max(1, Math.min(60, total - GUTTER));
  const sorted = [...points].sort((a, b) => a.atMs - b.atMs);
  const weightAt = (ms: number, strictlyBefore = false) => {
    let green = 0;
    for (const p of sorted) if (strictlyBefore ? p.atMs < ms : p.atMs <= ms) green = p.green;
    return green;
  };
  const span = Math.max(endMs, 1);
  const timeOf = (c: number) => (c / Math.max(width - 1, 1)) * span;
  const columnOf = (ms: number) => Math.min(width - 1, Math.max(0, Math.round((ms / span) * (width - 1))));

  const rb = options.rollbackAtMs;
  const rbColumn = rb === undefined ? -1 : columnOf(rb);
  const rbHeight = rb === undefined ? 0 : Math.max(weightAt(timeOf(rbColumn)), weightAt(rb, true));
  const levels = [...new Set(sorted.map((p) => p.green).filter((g) => g > 0))].sort((a, b) => b - a);
  const rows = levels.map((level) => {
    const cells = Array.from({ length: width }, (_, c) => (c === rbColumn ? (rbHeight >= level ? '╳' : ' ') : weightAt(timeOf(c)) >= level ? '█' : ' '));
    return `${String(level).padStart(4)} % |${cells.join('')}`;
  });
  const axis = `     0 +${'-'.repeat(width)}`;
  const marker = rb === undefined ? [] : [`${' '.repeat(GUTTER + rbColumn)}${GUTTER + rbColumn + '▲ rollback'.length <= total ? '▲ rollback' : '▲'}`];

  // Tick labels: the ends first (left- and right-aligned), then the middle ones centred where they fit.
  const labels: string[] = Array.from({ length: width }, () => ' ');
  const taken: [number, number][] = [];
  for (const q of [0, 3, 1, 2]) {
    const text = clockText((q / 3) * span).slice(1);
    const centre = columnOf((q / 3) * span);
    const start = q === 0 ? 0 : q === 3 ? width - text.length : Math.round(centre - text.length / 2);
    const end = start + text.length;
    if (start < 0 || end > width || taken.some(([a, b]) => start <= b && end >= a)) continue;
    taken.push([start, end]);
    labels.splice(start, text.length, ...text);
  }
  const ticks = `${' '.repeat(GUTTER)}${labels.join('')}`.trimEnd();
  return [...rows, axis, ...marker, ticks].map((line) => fit(line, total));
}

/** The part of a Node write stream (e.g. `process.stdout`) a `LiveScreen` uses. */
export interface ScreenStream {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
  on?(event: 'resize', cb: () => void): unknown;
  off?(event: 'resize', cb: () => void): unknown;
}

const CLEAR_LINE = '\r\x1b[2K';

/**
 * Lines scroll; on a live screen one status line stays at the bottom, redrawn in place and cut
 * to `columns - 1` so it never wraps (and again when the terminal is resized). Not live:
 * `status` prints nothing and `line` prints the text as it is.
 */
export class LiveScreen {
  private statusText = '';
  private readonly live: boolean;
  private readonly onResize = () => {
    if (this.statusText) this.out.write(this.statusDraw());
  };

  constructor(
    private readonly out: ScreenStream,
    options: { live: boolean },
  ) {
    this.live = options.live;
    if (this.live) this.out.on?.('resize', this.onResize);
  }

  private get columns(): number {
    const c = this.out.columns;
    return c !== undefined && c > 0 ? Math.floor(c) : 80;
  }

  private statusDraw(): string {
    return `${CLEAR_LINE}${fit(this.statusText, this.columns - 1)}`;
  }

  /** Prints a scrolling line (each of its lines cut to the width on a live screen). */
  line(text: string): void {
    if (!this.live) {
      this.out.write(`${text}\n`);
      return;
    }
    const lines = text
      .split('\n')
      .map((l) => fit(l, this.columns))
      .join('\n');
    this.out.write(`${CLEAR_LINE}${lines}\n${this.statusText ? this.statusDraw() : ''}`);
  }

  /** Replaces the status line (live screens only). */
  status(text: string): void {
    if (!this.live) return;
    this.statusText = text.replace(/\r?\n/g, ' ');
    this.out.write(this.statusDraw());
  }

  /** Clears the status line and stops listening for resizes. */
  done(): void {
    if (!this.live) return;
    this.out.off?.('resize', this.onResize);
    if (this.statusText) this.out.write(CLEAR_LINE);
    this.statusText = '';
  }
}
