/** A clock tests can move: inject `clock.now` wherever the app takes `now`. */
export function testClock(start = new Date()) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
  };
}

export const MINUTE = 60_000;
export const DAY = 24 * 3600_000;
