/** Hostile values for fuzz tests, chosen by a seeded `Random` so a failing case can be replayed. */
import type { Random } from "./random.ts";

/** Strings that have broken parsers, databases and logs before. */
const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "evt_\u0000nul",
  "line\nbreak",
  "tab\there",
  "\r\n\r\n",
  "\u007f\u0080\u009f",
  "\ud800",
  "\udfff\ud800",
  "😀🎉",
  "\u202eevil\u202c",
  "e\u0301\u0301\u0301",
  "\ufeffbom",
  "Ω≈ç√∫",
  "null",
  "undefined",
  "[object Object]",
  "__proto__",
  "constructor",
  "toString",
  "'; drop table users; --",
  "<script>alert(1)</script>",
  "%00%0d%0a",
  "../../etc/passwd",
  "${jndi:ldap://x}",
  "9".repeat(400),
  "x".repeat(5000),
];

const NASTY_NUMBERS = [
  0,
  -1,
  1.5,
  -0.5,
  2 ** 31,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  1e300,
  -1e300,
  Number.MIN_VALUE,
];

export function nastyString(random: Random): string {
  if (random.chance(0.3)) return randomText(random, random.between(1, 40));
  return random.pick(NASTY_STRINGS);
}

/** Any JSON value, nested at most `depth` deep. */
export function nastyValue(random: Random, depth = 2): unknown {
  const kind = random.int(depth > 0 ? 8 : 6);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick(NASTY_NUMBERS);
    case 3:
      return random.between(-1000, 1_000_000);
    case 4:
    case 5:
      return nastyString(random);
    case 6:
      return Array.from({ length: random.int(4) }, () => nastyValue(random, depth - 1));
    default:
      return Object.fromEntries(
        Array.from({ length: random.int(4) }, () => [
          nastyString(random).slice(0, 30),
          nastyValue(random, depth - 1),
        ]),
      );
  }
}

/** Random code points from every plane, surrogates and control characters included. */
export function randomText(random: Random, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) {
    const range = random.int(4);
    const code = range === 0
      ? random.int(0x20)
      : range === 1
      ? random.between(0x20, 0x7e)
      : range === 2
      ? random.between(0x80, 0xffff)
      : random.between(0x10000, 0x10ffff);
    text += String.fromCodePoint(code);
  }
  return text;
}

/** Junk for a header value: Latin-1 without CR, LF, NUL or DEL, as HTTP carries it. */
export function headerText(random: Random, length: number): string {
  return [...randomText(random, length)]
    .map((c) => String.fromCharCode(0x20 + (c.codePointAt(0)! % 0xdf)))
    .join("")
    .replaceAll("\x7f", "?");
}

/** `value` with one field (at any depth) removed, retyped or replaced by something hostile. */
export function mutate(random: Random, value: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(value);
  const objects: Record<string, unknown>[] = [];
  const collect = (node: unknown) => {
    if (node && typeof node === "object" && !Array.isArray(node)) {
      objects.push(node as Record<string, unknown>);
      Object.values(node).forEach(collect);
    }
  };
  collect(copy);
  const target = random.pick(objects);
  const keys = Object.keys(target);
  const key = keys.length && random.chance(0.85) ? random.pick(keys) : nastyString(random);
  if (random.chance(0.25)) delete target[key];
  // Defined, not assigned: a key such as `__proto__` must become a field, as JSON.parse makes it.
  else Object.defineProperty(target, key, { value: nastyValue(random), enumerable: true });
  return copy;
}
