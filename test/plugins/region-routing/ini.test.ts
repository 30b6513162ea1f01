import t from 'tap';
import { IniSyntaxError, parseIni } from '../../../plugins/region-routing/ini';

const entries = (text: string): Record<string, Record<string, string>> =>
  Object.fromEntries(parseIni(text).map((s) => [s.name, Object.fromEntries([...s.entries].map(([k, e]) => [k, e.value]))]));

t.test('what configparser (RawConfigParser defaults) would read', async (t) => {
  const cases: [description: string, text: string, expected: Record<string, Record<string, string>>][] = [
    ['"=" and ":" delimiters; the first one splits', '[s]\na = 1\nb: 2\nc = x:y=z\n', { s: { a: '1', b: '2', c: 'x:y=z' } }],
    ['keys are lower-cased and trimmed, values trimmed', '[s]\n  Key-One   =   v  \n', { s: { 'key-one': 'v' } }],
    ['inline "#" is part of the value, as in configparser', '[s]\na = b # c\n', { s: { a: 'b # c' } }],
    ['full-line comments, also indented', '# c\n; c\n[s]\n  # c\na = 1\n', { s: { a: '1' } }],
    ['continuation lines join with a newline', '[s]\na = 1,\n  2,\n\t3\nb = 4\n', { s: { a: '1,\n2,\n3', b: '4' } }],
    ['empty value', '[s]\na =\n', { s: { a: '' } }],
    ['section names are trimmed and keep their case', '[ Eu-1 ]\na = 1\n', { 'Eu-1': { a: '1' } }],
    ['[DEFAULT] is inherited, not listed', '[DEFAULT]\na = d\nb = d\n[s]\nb = s\n', { s: { a: 'd', b: 's' } }],
    ['sections keep file order', '[b]\n[a]\n', { b: {}, a: {} }],
  ];
  for (const [description, text, expected] of cases)
    await t.test(description, async (t) => t.strictSame(entries(text), expected, 'entries'));
  t.strictSame([...parseIni('\n[s]\n\na = 1\n')[0].entries.values()], [{ value: '1', line: 4 }], 'line numbers');
});

t.test('syntax errors carry the line', async (t) => {
  const cases: [description: string, text: string, line: number, message: RegExp][] = [
    ['entry before any section', 'a = 1\n', 1, /entry before the first \[section\]/],
    ['unterminated header', '[s\n', 1, /malformed section header/],
    ['empty header', '[]\n', 1, /malformed section header/],
    ['blank header', '[  ]\n', 1, /empty section name/],
    ['no delimiter', '[s]\nkey\n', 2, /expected "key = value"/],
    ['no key', '[s]\n= v\n', 2, /entry without a key/],
    ['duplicate section', '[s]\n[s]\n', 2, /section \[s\] appears twice/],
    ['duplicate key, differing in case', '[s]\na = 1\nA = 2\n', 3, /key "a" appears twice/],
  ];
  for (const [description, text, line, message] of cases) {
    await t.test(description, async (t) =>
      t.throws(() => parseIni(text), { name: 'IniSyntaxError', line, message }, 'the error and its line'),
    );
  }
  t.ok(new IniSyntaxError(3, 'x') instanceof Error);
});
