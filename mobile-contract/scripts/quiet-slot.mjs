// A volunteer slot the demo volunteer can always claim, whatever day the
// checks run. The demo data is laid out around the server's "now" (today,
// or DEV_NOW in .ci/run's date matrix), so any demo slot may overlap one of
// the volunteer's demo shifts on some day. Instead the organiser publishes
// its own activity with one slot, an hour early in the morning, months
// after the demo's season (which ends within about three months) and
// within the 400 days the server expands occurrences ahead.

// The server's clock: DEV_NOW when the server was started with it (the
// clock runs on from there; a few seconds do not matter months ahead).
export function serverNow() {
  const dev = process.env.DEV_NOW;
  if (!dev) return new Date();
  const t = Date.parse(dev);
  if (Number.isNaN(t)) throw new Error(`DEV_NOW=${dev} is not an RFC 3339 time`);
  return new Date(t);
}

// quietHour returns an hour from 04:00 UTC (05:00 or 06:00 in Copenhagen,
// never near a daylight saving change at 01:00 UTC) on a day between
// fromDay and fromDay + spanDays after the server's now. Each check uses
// its own range of days, so checks running at once (node --test runs files
// in parallel) never claim overlapping shifts; the day within the range is
// random, so a re-run against the same server does not meet an earlier
// run's claim.
export function quietHour(fromDay, spanDays) {
  const day = new Date(serverNow());
  day.setUTCDate(day.getUTCDate() + fromDay + Math.floor(Math.random() * spanDays));
  day.setUTCHours(4, 0, 0, 0);
  const end = new Date(day);
  end.setUTCHours(5);
  return { startsAt: day.toISOString(), endsAt: end.toISOString() };
}

// overlaps reports whether any of the claims' slots overlaps the hour.
export function overlapping(claims, { startsAt, endsAt }) {
  const s = Date.parse(startsAt);
  const e = Date.parse(endsAt);
  return claims.filter((c) => Date.parse(c.slot.startsAt) < e && Date.parse(c.slot.endsAt) > s);
}
