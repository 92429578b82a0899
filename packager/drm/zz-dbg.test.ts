import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { encodeMedia, segmentFor } from '../../test/fixtures.ts';
import { concat } from '../bmff/box-writer.ts';
import { protectInit } from './cenc-init.ts';
import { encryptSegment } from './encrypt-segment.ts';
import { LocalKeyStore, toHex } from './keys.ts';
it('dbg', async () => {
  const m = await encodeMedia({ kind: 'video', size: '640x360', seconds: 4.5 });
  const key = await new LocalKeyStore().getKey('t', 'video', 0);
  const { init, protection } = protectInit(m.init, { scheme: 'cenc', key });
  const clear = [segmentFor(m, 5, 2000), segmentFor(m, 6, 2000)];
  const enc = await Promise.all(clear.map((s) => encryptSegment(s, protection, key)));
  writeFileSync('/tmp/drmcfg/two-enc.mp4', concat([init, ...enc]));
  writeFileSync('/tmp/drmcfg/two-clear.mp4', concat([m.init, ...clear]));
  writeFileSync('/tmp/drmcfg/key', toHex(key.key));
});
