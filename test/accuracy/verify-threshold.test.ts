import t from 'tap';
import { backendFor } from '../../dev/fixtures.js';
import { measureThreshold } from '../../dev/verify-threshold.js';
import { PACK_FACTS } from '../../src/models/pack-facts.js';
import { matchThreshold } from '../../src/pipeline/verify.js';

/**
 * Each pack's default verification threshold is what `npm run bench -- quality` measures on the shared
 * labelled photos today: when the pipeline changes the embeddings, this fails until the default follows.
 */

for (const [pack, facts] of Object.entries(PACK_FACTS)) {
  t.test(`${pack}: the default threshold is the measured one`, async (t) => {
    const backend = await backendFor(pack, 'fp32');
    t.teardown(() => backend.close());
    const measured = await measureThreshold(backend);
    t.same(measured.missing, [], 'a face in every identity photo');
    t.equal(facts.verifyThreshold, measured.threshold, `src/models/pack-facts.ts says ${facts.verifyThreshold}, the photos say ${measured.threshold}`);
    t.equal(matchThreshold(pack, undefined), measured.threshold, 'and /v1/verify uses it');
    const { same, different } = measured.pairs;
    const wrong = same.filter((c) => c < facts.verifyThreshold).length + different.filter((c) => c >= facts.verifyThreshold).length;
    t.equal(wrong, Math.round((1 - measured.accuracy) * (same.length + different.length)), 'the default gets as many pairs right as the best threshold');
  });
}
