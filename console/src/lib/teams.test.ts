import { describe, expect, it } from 'vitest';
import { deviceName, devicesOutside, limitBody, limitText } from './teams';
import type { Device, Team } from './types';

const device = (id: string, extra: Partial<Device> = {}): Device => ({
  id,
  label: null,
  enumerator: `Enumerator ${id}`,
  created_at: '2026-11-26T04:00:00.000Z',
  last_seen: null,
  app_version: null,
  pending: null,
  revoked_at: null,
  wipe_requested_at: null,
  profile: {},
  ...extra,
});

const north: Team = { id: 1, name: 'North', created_at: '', devices: ['tab-a'], coordinators: ['lena'] };

describe('teams', () => {
  it('offers the devices not in the team and not revoked', () => {
    const devices = [device('tab-a'), device('tab-b'), device('tab-c', { revoked_at: '2026-11-27T00:00:00.000Z' })];
    expect(devicesOutside(north, devices).map((d) => d.id)).toEqual(['tab-b']);
  });

  it('names a device by its label and enumerator, or by its id', () => {
    const devices = [device('tab-a', { label: 'Tablet 4' })];
    expect(deviceName('tab-a', devices)).toBe('Tablet 4 (Enumerator tab-a)');
    expect(deviceName('gone', devices)).toBe('gone');
  });

  it('tells an unlimited membership from one limited to nothing', () => {
    expect(limitText(null)).toBeNull();
    expect(limitText(undefined)).toBeNull();
    expect(limitText([])).toBe('');
    expect(limitText([{ id: 2, name: 'South' }, { id: 1, name: 'North' }])).toBe('North, South');
  });

  it('sends null to lift a limit and sorted unique ids to set one', () => {
    expect(limitBody(false, [1, 2])).toEqual({ teams: null });
    expect(limitBody(true, [3, 1, 3])).toEqual({ teams: [1, 3] });
  });
});
