import type { DrmConfig } from '../contract/drm-config.ts';
import { fail, ok, type OriginResult } from './result.ts';

/**
 * The event's DRM setting inside its origin object. It must exist before the event does (the
 * first init is packaged under it), so it has its own table rather than living only in the event
 * row; the event row's config copies it when the event is created.
 */
export class DrmSettings {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec('CREATE TABLE IF NOT EXISTS drm_config (id INTEGER PRIMARY KEY CHECK (id = 1), config TEXT NOT NULL)');
  }

  get(): DrmConfig | null {
    const row = this.sql.exec<{ config: string }>('SELECT config FROM drm_config WHERE id = 1').toArray()[0];
    return row ? (JSON.parse(row.config) as DrmConfig | null) : null;
  }

  /** Set (or clear, with null) the DRM; once any init is stored only the same setting is accepted. */
  set(drm: DrmConfig | null): OriginResult<{ drm: DrmConfig | null }> {
    const current = this.get();
    const inits = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM inits').one().n;
    if (inits > 0 && JSON.stringify(normalise(current)) !== JSON.stringify(normalise(drm))) {
      return fail(
        'DRM_LOCKED',
        `this event already stores headers packaged ${current ? `with ${current.scheme}` : 'in the clear'}; DRM is fixed once the first init is stored (use a new event id)`,
      );
    }
    this.sql.exec('INSERT OR REPLACE INTO drm_config (id, config) VALUES (1, ?)', JSON.stringify(drm));
    return ok({ drm });
  }
}

function normalise(drm: DrmConfig | null): DrmConfig | null {
  return drm
    ? {
        scheme: drm.scheme,
        rotateEverySegments: drm.rotateEverySegments ?? 0,
        cencIvSize: drm.scheme === 'cenc' ? (drm.cencIvSize ?? 16) : undefined,
        keys: drm.keys ?? { provider: 'local' },
      }
    : null;
}
