import type { z } from 'zod';
import { BUILT_IN_PROFILES, DeviceName, DeviceProfile, MAX_STORED_PROFILES } from '../contract/device-profile.ts';
import { AppError } from '../contract/errors.ts';
import {
  type ResolvedProfile,
  allProfiles,
  findProfile,
  putStoredProfiles,
  storedProfiles,
} from './device-profiles-store.ts';
import { readJson } from './json-body.ts';
import type { Ctx, RouteHandler } from './route-handler.ts';

/**
 * Operator API for device profiles (docs/api.md, docs/manifests.md): list (built-ins included),
 * read, put (add, or override a built-in) and delete (a stored profile; a built-in comes back).
 * Stored in Workers KV; other locations see a change within about a minute.
 */
const NO_STORE = { 'cache-control': 'no-store' };

const view = (p: ResolvedProfile) => ({
  name: p.name,
  source: p.source,
  builtIn: Object.hasOwn(BUILT_IN_PROFILES, p.name),
  hash: p.hash,
  profile: p.profile,
});

function nameOf(c: Ctx): string {
  const raw = c.req.param('name') ?? '';
  const parsed = DeviceName.safeParse(raw);
  if (!parsed.success) throw new AppError('BAD_PATH', `device name "${raw}": ${parsed.error.issues[0].message}`);
  return parsed.data;
}

export const getDevices: RouteHandler = async (c) =>
  c.json({ devices: (await allProfiles(c.env, true)).map(view) }, 200, NO_STORE);

export const getDevice: RouteHandler = async (c) => {
  const name = nameOf(c);
  const found = await findProfile(c.env, name, true);
  if (!found)
    throw new AppError('DEVICE_PROFILE_NOT_FOUND', `no device profile "${name}" (GET /api/devices lists them)`);
  return c.json(view(found), 200, NO_STORE);
};

export const putDevice: RouteHandler = async (c) => {
  const name = nameOf(c);
  // Validated whole before anything is stored: a refused body changes nothing.
  const profile = await readJson(c.req.raw, DeviceProfile as z.ZodType<DeviceProfile>);
  const stored = { ...(await storedProfiles(c.env, true)) };
  if (!Object.hasOwn(stored, name) && Object.keys(stored).length >= MAX_STORED_PROFILES)
    throw new AppError('BAD_BODY', `at most ${MAX_STORED_PROFILES} device profiles can be stored; delete one first`);
  stored[name] = profile;
  await putStoredProfiles(c.env, stored);
  return c.json(view((await findProfile(c.env, name))!), 200, NO_STORE);
};

export const deleteDevice: RouteHandler = async (c) => {
  const name = nameOf(c);
  const stored = { ...(await storedProfiles(c.env, true)) };
  if (!Object.hasOwn(stored, name)) {
    const builtIn = Object.hasOwn(BUILT_IN_PROFILES, name) ? ' (built in: it can be overridden, not deleted)' : '';
    throw new AppError('DEVICE_PROFILE_NOT_FOUND', `no stored device profile "${name}"${builtIn}`);
  }
  delete stored[name];
  await putStoredProfiles(c.env, stored);
  // What applies to the name now: the built-in it overrode, or nothing.
  const now = await findProfile(c.env, name);
  return c.json({ deleted: name, now: now ? view(now) : null }, 200, NO_STORE);
};
