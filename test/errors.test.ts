import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERRORS, errorTableMarkdown, type ErrorEntry } from '../src/errors/catalogue.js';

t.test('README error table is generated from the catalogue (run npm run docs:errors)', async (t) => {
  t.ok(readFileSync('README.md', 'utf8').includes(errorTableMarkdown()), 'README.md is in sync with src/errors/catalogue.ts');
});

t.test('every error speaks Vietnamese with diacritics and English, and tells the person what to do', async (t) => {
  for (const [code, e] of Object.entries(ERRORS as Record<string, ErrorEntry>)) {
    t.match(code, /^[a-z_]+$/, 'stable snake_case code');
    t.match(e.message.vi, /[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]/i, `${code}: Vietnamese with diacritics`);
    t.notSame(e.message.vi, e.message.en, `${code}: translated`);
    t.match(e.message.vi, /(Vui lòng|Bạn có thể|Hãy|hãy|vui lòng)/, `${code}: says what to do next`);
    t.ok(e.status >= 400 && e.status < 600, `${code}: an HTTP error status`);
    t.ok(e.operator.length > 10, `${code}: a line for operators`);
  }
});
