import t from 'tap';
import { contentDisposition, encodeExtValue, safeBasename } from '../../../plugins/hash-rewrite/disposition';

/** What a strict parser would read back: filename* decoded when present, else the quoted fallback. */
function parse(value: string): { filename: string; ext?: string } {
  const m = /^attachment; filename="([^"\\]*)"(?:; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]*))?$/.exec(value);
  if (!m) throw new Error(`not a well-formed attachment value: ${JSON.stringify(value)}`);
  return { filename: m[1], ext: m[2] === undefined ? undefined : decodeURIComponent(m[2]) };
}

t.test('Content-Disposition: plain names, RFC 6266 fallback and RFC 8187 filename*', async (t) => {
  const cases = [
    { desc: 'a plain ASCII name is quoted as is', name: 'data.bin', value: 'attachment; filename="data.bin"' },
    { desc: 'spaces, semicolons and commas are safe inside quotes', name: 'a b; c,d.txt', value: 'attachment; filename="a b; c,d.txt"' },
    {
      desc: 'accents: ASCII fallback without them, exact name in filename*',
      name: 'résumé.pdf',
      value: 'attachment; filename="resume.pdf"; filename*=UTF-8\'\'r%C3%A9sum%C3%A9.pdf',
    },
    {
      desc: 'non-Latin script: underscores in the fallback',
      name: '数据.csv',
      value: 'attachment; filename="__.csv"; filename*=UTF-8\'\'%E6%95%B0%E6%8D%AE.csv',
    },
    {
      desc: 'emoji (astral) is one underscore in the fallback',
      name: 'x😀.txt',
      value: 'attachment; filename="x_.txt"; filename*=UTF-8\'\'x%F0%9F%98%80.txt',
    },
    {
      desc: 'a percent sign never reaches the fallback (browsers may decode it)',
      name: '100%.txt',
      value: 'attachment; filename="100_.txt"; filename*=UTF-8\'\'100%25.txt',
    },
    {
      desc: "characters outside attr-char are encoded in filename* ('()*)",
      name: "it's (1)*.txt",
      value: 'attachment; filename="it\'s (1)*.txt"',
    },
    { desc: 'no name: the fallback name (the archive id) is used', name: '', fallback: '42', value: 'attachment; filename="42"' },
    { desc: 'nothing usable anywhere: "download"', name: '../..', fallback: '', value: 'attachment; filename="download"' },
  ];
  for (const c of cases) await t.test(c.desc, async (t) => t.equal(contentDisposition(c.name, c.fallback), c.value, 'the header value'));
});

t.test('Content-Disposition: hostile names can never inject a header, a parameter or a path', async (t) => {
  const cases = [
    { desc: 'CR LF header injection', name: 'a.txt\r\nSet-Cookie: owned=1', filename: 'a.txtSet-Cookie: owned=1' },
    { desc: 'bare LF', name: 'a\nb.txt', filename: 'ab.txt' },
    { desc: 'NUL and other C0 controls', name: 'a\u0000b\u0007c.txt', filename: 'abc.txt' },
    { desc: 'DEL and C1 controls (NEL)', name: 'a\u007fb\u0085c.txt', filename: 'abc.txt' },
    { desc: 'Unicode line separators', name: 'a\u2028b\u2029c.txt', filename: 'abc.txt' },
    { desc: 'a double quote closing the parameter early', name: 'a".txt; filename="evil.exe', filename: 'a_.txt; filename=_evil.exe' },
    { desc: 'quotes and backslashes without separators', name: 'say "hi" \\o/', filename: 'o' },
    { desc: 'a lone double quote', name: 'a"b.txt', filename: 'a_b.txt', ext: 'a"b.txt' },
    { desc: 'Unix traversal', name: '../../etc/passwd', filename: 'passwd' },
    { desc: 'Windows traversal', name: '..\\..\\windows\\system32\\cmd.exe', filename: 'cmd.exe' },
    { desc: 'absolute path', name: '/var/lib/secret.key', filename: 'secret.key' },
    { desc: 'trailing separator', name: 'dir/sub/', filename: 'sub' },
    { desc: 'only dots', name: '..', fallback: '7', filename: '7' },
    { desc: 'bidi override spoofing the extension', name: 'invoice\u202Efdp.exe', filename: 'invoicefdp.exe' },
    { desc: 'separators hidden behind CR LF', name: 'x\r\n/../y.txt', filename: 'y.txt' },
    { desc: 'a lone surrogate does not throw', name: 'a\uD800b.txt', filename: 'a_b.txt', ext: 'a\uFFFDb.txt' },
    {
      desc: 'a very long name is cut to 255 characters, extension kept',
      name: `${'n'.repeat(400)}.tar.gz`,
      filename: `${'n'.repeat(252)}.gz`,
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      const value = contentDisposition(c.name, c.fallback ?? 'fallback');
      t.notMatch(value, /[\r\n\0]/, 'no line breaks or NUL');
      t.match(value, /^[\x20-\x7e]+$/, 'printable ASCII only');
      let parsed;
      try {
        parsed = parse(value);
      } catch (err) {
        t.fail((err as Error).message);
        return;
      }
      t.equal(parsed.filename, c.filename, 'quoted filename');
      if (c.ext !== undefined) t.equal(parsed.ext, c.ext, 'filename* decodes to the name');
      for (const name of [parsed.filename, parsed.ext ?? '']) t.notMatch(name, /[/\\]/, 'no path separator survives');
    });
  }
});

t.test('helpers', async (t) => {
  t.equal(safeBasename('a/b/c.txt'), 'c.txt', 'basename of a path');
  t.equal(safeBasename(' . '), '', 'a dot alone is nothing');
  t.equal(encodeExtValue('a b'), 'a%20b', 'space is percent-encoded');
  t.equal(encodeExtValue('!#$&+-.^_`|~'), '!#$&+-.^_`|~', 'attr-chars stay');
});
