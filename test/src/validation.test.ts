import t from 'tap';
import { BOOLEAN_WORDS, invalid, parseBoolean } from '../../src/validation.js';

t.test('invalid() names the value, what was expected and what was received', async (t) => {
  t.equal(invalid('min_score', 'a number from 0 to 1', 'abc'), 'min_score is invalid: expected a number from 0 to 1; received "abc"');
  t.equal(invalid('x', 'a number', ''), 'x is invalid: expected a number; received ""', 'an empty value shows');
  t.equal(invalid('x', 'a number', 5), 'x is invalid: expected a number; received 5');
  t.equal(invalid('x', 'a number', undefined), 'x is invalid: expected a number; received nothing');
  t.equal(invalid('box 0', 'finite numbers', [0, Infinity, -Infinity, NaN]), 'box 0 is invalid: expected finite numbers; received [0,Infinity,-Infinity,NaN]');
  t.match(invalid('x', 'short', 'y'.repeat(500)), /received "y{79}\.\.\.$/, 'long values are cut');
});

t.test('one boolean vocabulary, any case, with blanks trimmed', async (t) => {
  for (const word of ['1', 'true', 'TRUE', 'yes', 'Yes', 'on', ' ON ']) t.equal(parseBoolean(word), true, word);
  for (const word of ['0', 'false', 'False', 'no', 'NO', 'off', 'Off']) t.equal(parseBoolean(word), false, word);
  for (const word of ['', ' ', 'y', 'n', 'enabled', '2', 'truee']) t.equal(parseBoolean(word), undefined, JSON.stringify(word));
  t.equal(BOOLEAN_WORDS, 'a boolean: 1/true/yes/on or 0/false/no/off (any case)');
});
