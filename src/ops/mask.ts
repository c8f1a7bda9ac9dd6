/**
 * Masks for personal data (Decree 13/2023, Law 91/2025): what logs and pages may show
 * of a national identifier, tax code or phone number.
 */

/** `079012341234` → `0790****1234`; short values keep less. */
export function maskId(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  if (value.length >= 10) return `${value.slice(0, 4)}****${value.slice(-4)}`;
  if (value.length >= 6) return `${value.slice(0, 2)}****${value.slice(-2)}`;
  return '****';
}

/** `0901234289` → `090****289`. */
export function maskPhone(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  const digits = value.replace(/\D/g, '');
  if (digits.length < 7) return '****';
  return `${digits.slice(0, 3)}****${digits.slice(-3)}`;
}

// 9 to 13 digit runs (CMND, CCCD, MST, phone numbers) anywhere in a log string.
const DIGIT_RUN = /(?<!\d)(\d{3})\d{3,7}(\d{3})(?!\d)/g;

/** Last line of defence for log strings: no long digit run leaves the process in clear. */
export function scrubDigits(text: string): string {
  return text.replace(DIGIT_RUN, '$1****$2');
}
