import t from 'tap';
import { BatchSlots } from '../../routes/batch-slots.js';

/** The scheduler alone: a pool of global slots, tasks that finish when the test says so. */
function pool(size: number) {
  let used = 0;
  return {
    get used() {
      return used;
    },
    take: () => {
      if (used >= size) return undefined;
      used++;
      return () => {
        used--;
      };
    },
  };
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

const tick = () => new Promise((r) => setImmediate(r));

t.test('runs on its own slot plus spare ones, up to its cap, in order of arrival', async (t) => {
  const spare = pool(2);
  const slots = new BatchSlots(spare.take, 4);
  const gates = Array.from({ length: 6 }, gate);
  const started: number[] = [];
  const results = gates.map((g, i) =>
    slots.run(async () => {
      started.push(i);
      await g.opened;
      return i;
    }),
  );
  await tick();
  t.same(started, [0, 1, 2], 'its own slot and the two spare ones');
  t.equal(spare.used, 2);
  gates[1].open();
  await tick();
  t.same(started, [0, 1, 2, 3], 'a finished image makes room for the next');
  for (const g of gates) g.open();
  t.same(await Promise.all(results), [0, 1, 2, 3, 4, 5]);
  t.equal(spare.used, 0, 'every spare slot is given back');
});

t.test('with no spare slot it still progresses, one image at a time', async (t) => {
  const spare = pool(0);
  const slots = new BatchSlots(spare.take, 4);
  let running = 0;
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      slots.run(async () => {
        peak = Math.max(peak, ++running);
        await tick();
        running--;
        return i;
      }),
    ),
  );
  t.same(results, [0, 1, 2, 3, 4]);
  t.equal(peak, 1);
});

t.test('a failing image releases its slot and fails only its own promise', async (t) => {
  const spare = pool(1);
  const slots = new BatchSlots(spare.take, 4);
  const outcomes = await Promise.allSettled([
    slots.run(async () => {
      throw new Error('bad photo');
    }),
    slots.run(async () => 'fine'),
    slots.run(async () => 'also fine'),
  ]);
  t.same(
    outcomes.map((o) => o.status),
    ['rejected', 'fulfilled', 'fulfilled'],
  );
  t.equal(spare.used, 0);
});

t.test('never more than its cap, however many slots are spare', async (t) => {
  const spare = pool(100);
  const slots = new BatchSlots(spare.take, 3);
  let running = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: 10 }, () =>
      slots.run(async () => {
        peak = Math.max(peak, ++running);
        await tick();
        running--;
      }),
    ),
  );
  t.equal(peak, 3);
});
