/**
 * HTML for every page a person sees: one layout, escaped templates, Vietnamese first.
 * No scripts: pages work without JavaScript and under a strict Content-Security-Policy.
 */

export type Locale = 'vi' | 'en';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Template literal tag: interpolations are escaped unless wrapped with raw(). */
export class Raw {
  constructor(readonly html: string) {}
}
export const raw = (html: string) => new Raw(html);

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Raw(out);
}

function render(v: unknown): string {
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return esc(v);
}

/** ui_locales → the first supported locale; Vietnamese by default. */
export function pickLocale(uiLocales: unknown): Locale {
  if (typeof uiLocales !== 'string') return 'vi';
  for (const tag of uiLocales.split(/\s+/)) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'vi') return 'vi';
    if (base === 'en') return 'en';
  }
  return 'vi';
}

const T = {
  brand: { vi: 'Hệ thống xác thực tập trung', en: 'Central login service' },
  footer: {
    vi: 'Hỗ trợ: tổng đài {support}. Không chia sẻ mật khẩu hoặc mã OTP cho bất kỳ ai.',
    en: 'Help: call {support}. Never share your password or OTP code with anyone.',
  },
} as const;

export interface LayoutOptions {
  locale: Locale;
  title: string;
  body: Raw;
  support: string;
  /** Link that shows the same page in the other language. */
  switchLocaleHref?: string | undefined;
}

export function layout(o: LayoutOptions): string {
  const other = o.locale === 'vi' ? 'English' : 'Tiếng Việt';
  return `<!doctype html>
<html lang="${o.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(o.title)} · ${esc(T.brand[o.locale])}</title>
<link rel="stylesheet" href="/static/broker.css">
</head>
<body>
<header class="top"><div class="wrap"><span class="emblem" aria-hidden="true">★</span> ${esc(T.brand[o.locale])}${o.switchLocaleHref ? html` <a class="lang" href="${o.switchLocaleHref}" lang="${o.locale === 'vi' ? 'en' : 'vi'}">${other}</a>`.html : ''}</div></header>
<main class="wrap">
<h1>${esc(o.title)}</h1>
${o.body.html}
</main>
<footer class="wrap foot">${esc(T.footer[o.locale].replace('{support}', o.support))}</footer>
</body>
</html>`;
}

export const STYLESHEET = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1b1b1b;background:#f4f6f9}
.wrap{max-width:44rem;margin:0 auto;padding:0 1rem}.top{background:#b71c1c;color:#fff;padding:.75rem 0;font-weight:600}
.top .lang{float:right;color:#fff;font-weight:400}.emblem{color:#ffd54f}
h1{font-size:1.5rem;margin:1.5rem 0 1rem}h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:1rem 1.25rem;margin:0 0 1rem}
.card h2{margin-top:0}.hint{color:#4a5561;font-size:.95rem}
button,.button{display:block;width:100%;text-align:left;font:inherit;padding:.8rem 1rem;margin:.5rem 0;border-radius:6px;border:1px solid #1565c0;background:#1565c0;color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:#1565c0}button:disabled{background:#cfd8dc;border-color:#cfd8dc;color:#455a64;cursor:not-allowed}
button:focus-visible,.button:focus-visible,a:focus-visible{outline:3px solid #ffb300;outline-offset:2px}
.error{border-left:6px solid #c62828}.notice{border-left:6px solid #f9a825}.meta{font-size:.85rem;color:#4a5561}
.meta code{background:#eef1f5;padding:0 .3rem;border-radius:3px}.foot{color:#4a5561;font-size:.85rem;margin:2rem auto}
form{margin:0}label{display:block;margin:.5rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{width:100%;font:inherit;padding:.6rem;border:1px solid #90a4ae;border-radius:6px}
#code{font-size:1.4rem;letter-spacing:.3rem;max-width:12rem}
textarea{width:100%;font:.9rem/1.4 ui-monospace,monospace;padding:.5rem;border:1px solid #90a4ae;border-radius:6px}select{font:inherit;padding:.4rem}
fieldset{border:1px solid #dde3ea;border-radius:6px;margin:.75rem 0}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.25rem 1rem}.filters label{font-weight:400;font-size:.9rem}
.filters input{width:100%;font:inherit;padding:.35rem;border:1px solid #90a4ae;border-radius:4px}.filters button{grid-column:1/-1}
table.events{border-collapse:collapse;width:100%;font-size:.85rem;background:#fff}table.events th,table.events td{border:1px solid #dde3ea;padding:.25rem .4rem;text-align:left}
main.wrap:has(table.events){max-width:72rem}.chart{margin:0 0 1rem;background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:.5rem}fieldset label{display:inline;font-weight:400;margin-right:1rem}
.tabs{margin:0 0 1rem}.tabs a{display:inline-block;padding:.4rem .8rem;margin-right:.3rem;border:1px solid #90a4ae;border-radius:6px;color:#1565c0;text-decoration:none}
.tabs a.on{background:#1565c0;color:#fff;border-color:#1565c0}.qr svg{width:220px;height:220px}.secret{word-break:break-all}
`;
