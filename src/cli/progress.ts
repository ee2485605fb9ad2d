/**
 * The CLI's one progress reporter, on stderr (stdout stays for results and --json). On a terminal a cli-progress
 * bar redrawn in place; otherwise (piped, CI, a log file) plain lines: the first update, then one every few
 * seconds (PANN_PROGRESS_INTERVAL_MS, default 5000), then the end, so a long run is never silent and a log is not
 * flooded. Quiet (--quiet, --json) prints nothing.
 */
import cliProgress from 'cli-progress';

/** Milliseconds between plain progress lines when stderr is not a terminal. */
function plainInterval(): number {
  const v = Number(process.env.PANN_PROGRESS_INTERVAL_MS);
  return Number.isFinite(v) && v >= 0 ? v : 5000;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/** A progress bar over a count (inputs, batches, cells, trials), with free text beside it. */
export class ProgressBar {
  readonly #label: string;
  readonly #quiet: boolean;
  readonly #tty: boolean;
  readonly #start = Date.now();
  #bar: cliProgress.SingleBar | null = null;
  #lastLine = -Infinity;
  #lastTotal = 0;

  constructor(label: string, opts: { quiet?: boolean } = {}) {
    this.#label = label;
    this.#quiet = opts.quiet === true;
    this.#tty = process.stderr.isTTY === true;
  }

  /** `done` of `total` finished; `extra` is shown beside the count (a stage, a cell, an accuracy). */
  update(done: number, total: number, extra = ''): void {
    if (this.#quiet) return;
    this.#lastTotal = total;
    if (this.#tty) {
      if (!this.#bar) {
        this.#bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${this.#label} [{bar}] {value}/{total} {duration_formatted} eta {eta_formatted} {extra}`,
            barsize: 24,
            hideCursor: false,
            etaBuffer: 20,
            fps: 10,
          },
          cliProgress.Presets.legacy,
        );
        this.#bar.start(total, done, { extra });
      } else {
        this.#bar.setTotal(total);
        this.#bar.update(done, { extra });
      }
      return;
    }
    const pct = total > 0 ? ` (${Math.round((100 * done) / total)}%)` : '';
    this.#plainLine(`${done}/${total}${pct}`, extra, done >= total);
  }

  /** Off a terminal: one line, unless the last was less than the interval ago (and this one is not `always`). */
  #plainLine(text: string, extra: string, always: boolean): void {
    const now = Date.now();
    if (!always && now - this.#lastLine < plainInterval()) return;
    this.#lastLine = now;
    process.stderr.write(`${this.#label}: ${text} ${seconds(now - this.#start)}${extra ? ` ${extra}` : ''}\n`);
  }

  /**
   * Free text without moving the count (a setup step, a stage inside one long evaluation). Off a terminal notes
   * are throttled like updates, unless `always` (rare events worth a line each, such as key generation starting).
   */
  note(text: string, always = false): void {
    if (this.#quiet) return;
    if (this.#bar) {
      this.#bar.update({ extra: text });
      // cli-progress redraws on a timer, which synchronous work (key generation, a batch) blocks: draw now
      if (always) this.#bar.render();
    } else if (this.#tty) process.stderr.write(`\r${this.#label}: ${text}\x1b[K`);
    else this.#plainLine(text, '', always);
  }

  /** The end: the total time, and `extra`. */
  done(extra = ''): void {
    if (this.#quiet) return;
    if (this.#bar) {
      this.#bar.update(this.#lastTotal, { extra: '' });
      this.#bar.stop();
    } else if (this.#tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(`${this.#label} done in ${seconds(Date.now() - this.#start)}${extra ? ` ${extra}` : ''}\n`);
  }
}

/**
 * Steps without a count (compile passes, key generation): each step gets a line when it starts, on a terminal
 * redrawn in place; `end()` clears it. Quiet prints nothing.
 */
export function stepReporter(label: string, quiet: boolean): { step: (name: string) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  const start = Date.now();
  let current: { name: string; at: number } | null = null;
  const close = () => {
    if (!current || tty) return;
    const ms = Date.now() - current.at;
    if (ms >= 1000) process.stderr.write(`${label}: ${current.name} took ${seconds(ms)}\n`);
  };
  return {
    step: (name) => {
      if (quiet) return;
      close();
      current = { name, at: Date.now() };
      process.stderr.write(tty ? `\r${label}: ${name}… ${seconds(Date.now() - start)}\x1b[K` : `${label}: ${name}…\n`);
    },
    end: () => {
      if (quiet) return;
      close();
      current = null;
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
