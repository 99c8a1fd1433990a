import * as FakeTimers from '@sinonjs/fake-timers';

type InstalledClock = ReturnType<typeof FakeTimers.install>;

const realSetImmediate = setImmediate;
const realSetTimeout = setTimeout;
const yieldToEventLoop = () => new Promise<void>((resolve) => realSetImmediate(resolve));
const sleepReal = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

let realWorkPending = 0;

/**
 * Marks work that waits on the real world (file reads, say) rather than on timers: virtual
 * time stands still until it is done, as if it took no time.
 */
export async function realWork<T>(work: Promise<T>): Promise<T> {
  realWorkPending++;
  try {
    return await work;
  } finally {
    realWorkPending--;
  }
}

/**
 * Virtual time for local runs: Date, setTimeout and setInterval are faked, so a Wait state of
 * 120 s, a Route53 change that takes 20 s to be INSYNC and the SDK's retry backoff all pass
 * in an instant, in order, as they would in real time.
 */
export class VirtualClock {
  private constructor(private clock: InstalledClock, readonly startedAt: number) {}

  static install(now = Date.now()): VirtualClock {
    const clock = FakeTimers.install({ now, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    return new VirtualClock(clock, now);
  }

  /** Virtual milliseconds since install. */
  elapsedMs(): number {
    return this.clock.now - this.startedAt;
  }

  /**
   * Runs timers in order until `work` settles; fails if nothing is left that could settle it.
   * With `speed` (virtual seconds per wall second), time passes at that pace so a person can
   * follow; without it, as fast as the work allows.
   */
  async run<T>(work: Promise<T>, options: { speed?: number } = {}): Promise<T> {
    this.runs++;
    try {
      return await this.drive(work, options);
    } finally {
      this.runs--;
    }
  }

  /** Whether a run() is driving time now (work started from inside it needs no driver of its own). */
  get running(): boolean {
    return this.runs > 0;
  }

  private runs = 0;

  private async drive<T>(work: Promise<T>, options: { speed?: number }): Promise<T> {
    let settled = false;
    const tracked = work.finally(() => {
      settled = true;
    });
    tracked.catch(() => undefined);
    let idle = 0;
    while (!settled) {
      await yieldToEventLoop();
      if (settled) break;
      if (realWorkPending > 0) await sleepReal(1);
      else if (this.clock.countTimers() > 0) {
        idle = 0;
        if (options.speed) {
          await sleepReal(1000 / options.speed);
          await this.clock.tickAsync(1000);
        } else await this.clock.nextAsync();
      } else if (++idle > 1_000) {
        throw new Error('virtual time is stuck: the work waits on something that no timer will ever resolve');
      }
    }
    return tracked;
  }

  /**
   * Lets virtual time pass (for scripted scenarios). Inside a run, the run's driver moves time
   * (it waits for real work in flight, such as an IAM evaluation, before the next timer): a
   * second driver jumping ahead on its own would let timers fire before that work is done.
   */
  async advance(ms: number): Promise<void> {
    if (this.running) await new Promise((resolve) => setTimeout(resolve, ms));
    else await this.clock.tickAsync(ms);
  }

  uninstall(): void {
    this.clock.uninstall();
  }
}
