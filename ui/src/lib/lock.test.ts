import { describe, expect, it } from 'vitest';
import { pinProblem, showWipeWarning, throttled } from './lock';

describe('lock screen rules', () => {
  it('asks for a long enough PIN entered twice alike', () => {
    expect(pinProblem('12345', '12345', 6)).toBe('short');
    expect(pinProblem('123456', '123457', 6)).toBe('differ');
    expect(pinProblem('123456', '123456', 6)).toBeNull();
    // Characters, not bytes: a 6-letter Arabic passphrase is long enough.
    expect(pinProblem('كلمةسر', 'كلمةسر', 6)).toBeNull();
  });

  it('warns only on the lock screen and only near the end', () => {
    expect(showWipeWarning({ status: 'locked', attempts_left: 4, warn_when_left: 3 })).toBe(false);
    expect(showWipeWarning({ status: 'locked', attempts_left: 3, warn_when_left: 3 })).toBe(true);
    expect(showWipeWarning({ status: 'new', attempts_left: 1, warn_when_left: 3 })).toBe(false);
  });

  it('pings activity at most once per interval', () => {
    let t = 0;
    let pings = 0;
    const ping = throttled(() => pings++, 1000, () => t);
    ping();
    t = 500;
    ping();
    t = 1000;
    ping();
    expect(pings).toBe(2);
  });
});
