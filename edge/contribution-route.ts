import { Hono } from 'hono';
import { AppError } from '../contract/errors.ts';
import { EventId, PipelineId } from '../contract/ids.ts';
import { verifyToken } from '../contract/scoped-token.ts';
import { type ContainersEnv, containerName } from '../orchestrator/provisioner-containers.ts';
import { bearerToken, check, requireTokenFor } from './credentials.ts';
import type { AppEnv } from './route-handler.ts';

/**
 * `PUT /contribution/{event}/{pipeline}`: the venue's contribution feed (MPEG-TS over a chunked
 * HTTP PUT) forwarded to that pipeline's encoder bridge container
 * (`ENCODER_BRIDGE.getByName(`${event}:${pipeline}`)`, orchestrator/encoder-bridge-container.ts),
 * which adds the bridge's feed token. Credential: a scoped ingest token of the event (and of the
 * pipeline, when it names one) or the read-write operator token. Only where Cloudflare Containers
 * run (PROVISIONER = "containers", `wrangler deploy --env production`); elsewhere a 404 that says so.
 * A pipeline that was never provisioned answers 409 from its container.
 */
export const contributionApi = new Hono<AppEnv>();

contributionApi.put('/contribution/:event/:pipeline', async (c) => {
  const event = EventId.safeParse(c.req.param('event'));
  if (!event.success) throw new AppError('BAD_PATH', `event: ${event.error.issues[0].message}`);
  const pipeline = PipelineId.safeParse(c.req.param('pipeline'));
  if (!pipeline.success) throw new AppError('BAD_PATH', `pipeline: ${pipeline.error.issues[0].message}`);

  const token = bearerToken(c.req.header('authorization'));
  if (!token)
    throw new AppError('UNAUTHORIZED', 'send Authorization: Bearer <ingest token of the event or operator token>', {
      'www-authenticate': 'Bearer realm="ingest"',
    });
  const claims = await verifyToken(c.env.INGEST_TOKEN_KEY ?? '', token);
  if (claims?.scope === 'ingest') {
    c.set('claims', claims);
    requireTokenFor(c, event.data, pipeline.data);
  } else {
    await check(c, 'operator:write');
  }

  const ns = (c.env as Env & ContainersEnv).ENCODER_BRIDGE;
  if (!ns)
    throw new AppError(
      'ROUTE_NOT_FOUND',
      'contribution forwarding needs Cloudflare Containers (the production environment, PROVISIONER=containers; docs/containers.md): push to the bridge directly here',
    );
  const headers = new Headers({ 'content-type': c.req.header('content-type') ?? 'video/mp2t' });
  return ns.getByName(containerName(event.data, pipeline.data)).fetch(
    new Request('http://bridge/feed', {
      method: 'PUT',
      headers,
      body: c.req.raw.body,
      duplex: 'half',
    } as RequestInit),
  );
});
