import { AppError } from '../contract/errors.ts';
import { type ContainersEnv, containersProvisioner } from './provisioner-containers.ts';
import { localProvisioner } from './provisioner-local.ts';
import { noProvisioner, type Provisioner } from './provisioner.ts';

/** The local agent's token when PROVISIONER_TOKEN is unset (matches .dev.vars and scripts/provision-agent.ts). */
export const DEV_PROVISIONER_TOKEN = 'dev-provisioner-token';

/** The provisioner the PROVISIONER var names: "none" (default), "local" or "containers". */
export function provisionerFor(env: Env & ContainersEnv & { PROVISIONER_TOKEN?: string }): Provisioner {
  switch (env.PROVISIONER) {
    case 'local':
      return localProvisioner({
        url: env.PROVISIONER_URL || 'http://127.0.0.1:8790',
        token: env.PROVISIONER_TOKEN || DEV_PROVISIONER_TOKEN,
      });
    case 'containers':
      return containersProvisioner(env);
    case undefined:
    case '':
    case 'none':
      return noProvisioner;
    default:
      // A typo must not silently start nothing: every start fails loudly and is audited.
      return {
        kind: `unknown (${env.PROVISIONER})`,
        async start() {
          throw new AppError(
            'PROVISIONER_FAILED',
            `PROVISIONER must be none, local or containers, not "${env.PROVISIONER}"`,
          );
        },
        async stop() {},
        async running() {
          return [];
        },
      };
  }
}
