/**
 * Reads that can share one statement. A page that needs several independent answers asks for
 * them in one statement: one round trip, one snapshot, and no transaction around it — where a
 * transaction of separate reads costs a BEGIN, a statement each and a COMMIT on the server.
 *
 * Each read is a subquery yielding one value, which arrives as json carries it (a row made
 * `to_json` as an object, a list made `json_agg` as an array, timestamps as ISO text), and the
 * function that turns that into what its module returns. The module that owns the table owns its
 * read; `readAtOnce` only puts reads side by side, and `readOne` runs one alone, so a read's SQL is
 * written once wherever it is used.
 */
import postgres from "postgres";
import type { Queryable } from "./client.ts";

export interface Read<T> {
  /**
   * The subquery: one row of one column (or none, read as null). Absent when the answer is
   * known without asking (`known`).
   */
  query?: (db: Queryable) => postgres.Fragment;
  /** That value, parsed, as the module's type (`undefined` for a read without a query). */
  parse: (value: unknown) => T;
}

type Answers<R extends readonly Read<unknown>[]> = {
  [K in keyof R]: R[K] extends Read<infer T> ? T : never;
};

/**
 * The reads as one statement, answered in their order. Reads known without asking are left out
 * of it, and when every read is, nothing is sent.
 */
export async function readAtOnce<const R extends readonly Read<unknown>[]>(
  db: Queryable,
  reads: R,
): Promise<Answers<R>> {
  const asked = reads.flatMap((read) => read.query ? [read.query] : []);
  const answers = asked.length === 0 ? [] : await answersOf(db, asked);
  let next = 0;
  return reads.map((read) => read.parse(read.query ? answers[next++] : undefined)) as Answers<R>;
}

async function answersOf(
  db: Queryable,
  subqueries: ((db: Queryable) => postgres.Fragment)[],
): Promise<unknown[]> {
  const values = subqueries.map((query, i) => i === 0 ? db`(${query(db)})` : db`, (${query(db)})`);
  const [{ answers }] = await db<{ answers: unknown[] }[]>`
    select json_build_array(${values}) as answers`;
  return answers;
}

/** One read alone: one statement (none for a known answer). */
export async function readOne<T>(db: Queryable, read: Read<T>): Promise<T> {
  const [answer] = await readAtOnce(db, [read]);
  return answer;
}

/** The same read, its answer passed through `f`. */
export function mapRead<T, U>(read: Read<T>, f: (answer: T) => U): Read<U> {
  return { query: read.query, parse: (value) => f(read.parse(value)) };
}

/** A read whose answer is known without asking: it adds nothing to the statement. */
export function known<T>(answer: T): Read<T> {
  return { parse: () => answer };
}

/**
 * A json object of a row (`to_json(row)`, snake_case keys, timestamps as ISO text) as the driver
 * would have given the row itself: camelCase keys, and a `Date` for each of `dates`. (The driver
 * renames columns, not the keys inside json values.)
 */
export function rowFromJson<T>(value: unknown, dates: readonly (keyof T & string)[]): T {
  const row: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    row[postgres.toCamel(key)] = field;
  }
  // ISO text with its offset, as `to_json` writes a timestamptz.
  for (const key of dates) row[key] = row[key] === null ? null : new Date(row[key] as string);
  return row as T;
}
