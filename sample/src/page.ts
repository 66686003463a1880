import type { Session } from '../../lib';

/** Escapes text for HTML, attribute values included: everything a page shows goes through it. */
export const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A whole HTML page around `body`: the stylesheet, the navigation, who is signed in. */
export function page(title: string, body: string, session: Session | undefined): string {
  const who = session?.user
    ? `<form method="post" action="/logout" class="who">signed in as <strong>${escape(session.user)}</strong> <button>sign out</button></form>`
    : '<a class="who" href="/sessions">sign in</a>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Tessera session demo</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>
<nav><a class="brand" href="/">Tessera</a> <a href="/">counter</a> <a href="/me">session data</a> <a href="/sessions">active sessions</a></nav>
${who}
</header>
<main>
${body}
</main>
</body>
</html>
`;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/** `date` as "3 minutes ago" or "in 8 hours", the exact time in its tooltip. */
export function time(date: Date, now = Date.now()): string {
  const seconds = Math.round((date.getTime() - now) / 1000);
  const [unit, size] =
    UNITS.find(([, size]) => Math.abs(seconds) >= size) ?? (['second', 1] as const);
  return `<time datetime="${date.toISOString()}" title="${date.toUTCString()}">${relative.format(Math.trunc(seconds / size), unit)}</time>`;
}

const BROWSERS: [RegExp, string][] = [
  [/Edg\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrome\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
// Android's agents also name Linux, Apple's phones Mac OS X: the specific ones first.
const SYSTEMS: [RegExp, string][] = [
  [/Android/, 'Android'],
  [/iPhone|iPad/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X/, 'macOS'],
  [/Linux/, 'Linux'],
];

/** "Firefox on Linux": a name for the device a User-Agent header describes. */
export function deviceName(userAgent = ''): string {
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser) return system ? `${browser} on ${system}` : browser;
  return userAgent.slice(0, 60) || 'unknown device';
}
