const LOCAL_FORMAT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

function wallClock(d: Date, tz: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts = Object.fromEntries(formatter(tz).formatToParts(d).map((p) => [p.type, p.value]));
  return { y: +parts.year!, mo: +parts.month!, d: +parts.day!, h: +parts.hour!, mi: +parts.minute!, s: +parts.second! };
}

const DAY_MS = 86_400_000;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:MM:SS` of an instant on the wall clock of a time zone (the <timestamp> format). */
export function formatInZone(d: Date, tz: string): string {
  const w = wallClock(d, tz);
  return `${pad(w.y, 4)}-${pad(w.mo)}-${pad(w.d)} ${pad(w.h)}:${pad(w.mi)}:${pad(w.s)}`;
}

/**
 * The instant at which a time zone's wall clock shows `local` (`YYYY-MM-DD HH:MM:SS`), or null
 * when the text is not a real date-time.
 */
export function parseLocalDateTime(local: string, tz: string): Date | null {
  const m = LOCAL_FORMAT.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(asUtc);
  // Date.UTC reads years 0-99 as 1900-1999: such a year is refused rather than moved.
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1 || check.getUTCFullYear() !== y) return null;
  // The zone's offsets a day before and after bracket any change of offset near `local`.
  const shownAt = (t: number) => {
    const w = wallClock(new Date(t), tz);
    return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
  };
  const withOffsetBefore = asUtc - (shownAt(asUtc - DAY_MS) - (asUtc - DAY_MS));
  const withOffsetAfter = asUtc - (shownAt(asUtc + DAY_MS) - (asUtc + DAY_MS));
  const fits = [withOffsetBefore, withOffsetAfter].filter((t) => shownAt(t) === asUtc);
  // A repeated hour reads as its first occurrence; a skipped one (DST gap) keeps the offset from
  // before the gap, so 02:30 becomes 03:30, never 01:30: as Temporal's "compatible" disambiguation.
  return new Date(fits.length > 0 ? Math.min(...fits) : withOffsetBefore);
}
