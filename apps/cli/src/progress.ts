/** A one-line progress bar on stderr (plain lines when stderr is not a terminal). */
export class ProgressBar {
  private lastDrawn = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  /** Redraws the bar at `done` of `total` (throttled to ~10 redraws a second). */
  update(done: number): void {
    const now = Date.now();
    if (done < this.total && now - this.lastDrawn < 100) return;
    this.lastDrawn = now;
    const share = this.total === 0 ? 1 : done / this.total;
    const width = 30;
    const filled = Math.round(share * width);
    const rate = done / Math.max(0.001, (now - this.startedAt) / 1000);
    const line = `${this.label.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${Math.round(rate)}/s`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${done >= this.total ? '\n' : ''}`);
    else if (done >= this.total) process.stderr.write(`${line}\n`);
  }
}
