// Rules of the lock screen that are the UI's own (the device decides everything else).

/** Why a new PIN cannot be set yet: too short, or the two entries differ. */
export function pinProblem(pin: string, again: string, minLength: number): 'short' | 'differ' | null {
  if ([...pin].length < minLength) return 'short';
  if (pin !== again) return 'differ';
  return null;
}

/** Whether to warn that the last wrong PINs erase the device: from `warn_when_left` tries left. */
export function showWipeWarning(device: { status: string; attempts_left: number; warn_when_left: number }): boolean {
  return device.status === 'locked' && device.attempts_left <= device.warn_when_left;
}

/** Calls `ping` for user activity at most once per `everyMs` (the device's idle clock). */
export function throttled(ping: () => void, everyMs: number, now: () => number = Date.now): () => void {
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last >= everyMs) {
      last = t;
      ping();
    }
  };
}
