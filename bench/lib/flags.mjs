/**
 * `--name=value` flags over `defaults`: each flag must name a default, and takes its type (a
 * number default makes the value a number). Throws on anything else.
 */
export function parseFlags(defaults, argv) {
  const args = { ...defaults };
  for (const arg of argv) {
    const match = /^--(\w+)=(.*)$/.exec(arg);
    if (!match || !(match[1] in args)) throw new Error(`unknown argument ${arg}`);
    args[match[1]] = typeof args[match[1]] === 'number' ? Number(match[2]) : match[2];
  }
  return args;
}
