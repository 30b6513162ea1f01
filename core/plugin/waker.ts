/**
 * A poll loop's sleep that a {@link Waker.nudge} ends early: the loop waits `pollMs` for work,
 * and whoever makes work (a message stored, a task submitted, a slot freed) nudges it to look
 * now instead. One sleep at a time; a nudge while no sleep is pending is dropped, not saved for
 * the next one (the loop looks at its queue before sleeping again anyway).
 */
export class Waker {
  private wake?: () => void;

  /** Resolves after `ms`, on {@link nudge}, or when `signal` aborts meanwhile, whichever is first; never rejects. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        // A newer sleep may have replaced this one: leave its wake in place.
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      this.wake = done;
    });
  }

  /** End the pending sleep now (there is work to look at). */
  nudge(): void {
    this.wake?.();
  }
}
