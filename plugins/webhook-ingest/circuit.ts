/**
 * A destination's circuit: after `failures` failed attempts in a row it opens, and for `openMs`
 * nothing is sent; then one probe goes out, whose success closes it and whose failure opens it
 * again. So a dead backend costs one attempt per `openMs`, not every message's retries.
 */
export class Circuit {
  private failuresInRow = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly failures: number,
    private readonly openMs: number,
    private readonly onChange: (state: 'closed' | 'open' | 'half-open') => void = () => undefined,
  ) {}

  /** closed: send freely; open: send nothing; half-open: one probe may go. */
  state(now: number): 'closed' | 'open' | 'half-open' {
    if (this.openUntil === 0) return 'closed';
    return now < this.openUntil ? 'open' : 'half-open';
  }

  /** How many attempts may start now, given `slots` free and `inflight` running. */
  allowance(now: number, slots: number, inflight: number): number {
    const s = this.state(now);
    if (s === 'closed') return slots;
    if (s === 'open' || this.probing || inflight > 0) return 0;
    return Math.min(1, slots);
  }

  /** Ms until the circuit lets a probe go (0 when it is not open). */
  waitMs(now: number): number {
    return this.state(now) === 'open' ? this.openUntil - now : 0;
  }

  /** An attempt starts while half-open: it is the probe. */
  started(now: number): void {
    if (this.state(now) === 'half-open') this.probing = true;
  }

  succeeded(): void {
    const was = this.openUntil !== 0;
    this.failuresInRow = 0;
    this.openUntil = 0;
    this.probing = false;
    if (was) this.onChange('closed');
  }

  failed(now: number): void {
    this.failuresInRow += 1;
    if (this.probing || this.failuresInRow >= this.failures) {
      this.probing = false;
      this.openUntil = now + this.openMs;
      this.onChange('open');
    }
  }
}
