import t from 'tap';
import { toNumbers } from '../../routes/json-shapes.js';

t.test('embedding values read back as exactly the same float32', async (t) => {
  const values = new Float32Array(20000);
  let seed = 7;
  for (let i = 0; i < values.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    values[i] = ((seed / 2147483648) * 2 - 1) * 10 ** ((i % 9) - 6);
  }
  values[0] = 0;
  values[1] = -0.0883883461356163;
  values[2] = 1;
  const numbers = toNumbers(values);
  let mismatches = 0;
  for (let i = 0; i < values.length; i++) if (Math.fround(numbers[i]) !== values[i]) mismatches++;
  t.equal(mismatches, 0);
  t.ok(JSON.stringify(numbers).length < JSON.stringify(Array.from(values)).length * 0.8, 'shorter JSON');
});
