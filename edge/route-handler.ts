import type { Context, Handler } from 'hono';
import type { CredentialVars } from './credentials.ts';

/** The hono environment of every route: the Worker's bindings and what the credential check found. */
export type AppEnv = { Bindings: Env; Variables: CredentialVars };
export type RouteHandler = Handler<AppEnv>;
export type Ctx = Context<AppEnv>;
