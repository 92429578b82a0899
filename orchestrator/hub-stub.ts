/** The one orchestrator hub of the deployment (DESIGN §9: one hub owns every event). */
export function hubFor(env: Env) {
  return env.HUB.get(env.HUB.idFromName('hub'));
}
