import { describe, expect, it } from 'vitest';
import { localTime, localToRfc3339 } from './visits';

describe('return visit times', () => {
  it('sends the local time with its offset and reads it back the same', () => {
    const sent = localToRfc3339('2026-12-09T15:30');
    expect(sent).toMatch(/^2026-12-09T15:30:00[+-]\d{2}:\d{2}$/);
    expect(new Date(sent!).getHours()).toBe(15);
    expect(localTime(sent!)).toBe('2026-12-09 15:30');
  });

  it('refuses what is not a time of the calendar', () => {
    expect(localToRfc3339('')).toBeNull();
    expect(localToRfc3339('tomorrow')).toBeNull();
    expect(localToRfc3339('2026-02-31T10:00')).toBeNull();
    expect(localToRfc3339('2026-12-09')).toBeNull();
  });

  it('shows an unreadable time as it is', () => {
    expect(localTime('later')).toBe('later');
  });
});
