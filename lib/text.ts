/** Text from outside (URLs, headers, ids in events) as the app checks it. */

/** C0 controls and DEL: never part of an id, a path or a header value the app accepts. */
export function isControlCharacter(c: string): boolean {
  return c < " " || c === "\u007f";
}

export function hasControlCharacters(text: string): boolean {
  return [...text].some(isControlCharacter);
}

export function withoutControlCharacters(text: string): string {
  return [...text].filter((c) => !isControlCharacter(c)).join("");
}
