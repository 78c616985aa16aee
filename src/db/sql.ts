/**
 * SQL as a tagged template: `sql\`select * from papers where id = ${id}\``. Values never become SQL
 * text; each store compiles the same query to its own placeholders (`?` for SQLite, `$1` for
 * PostgreSQL). A `Date` is bound as epoch milliseconds: both stores keep instants as integers.
 */

/** A value bound once and referenced in several places of one query (`sql.param`). */
export class Param {
  constructor(readonly value: unknown) {}
}

/** Text spliced in as SQL: only ever a constant of the code, never input. */
class Raw {
  constructor(readonly text: string) {}
}

export class Sql {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
    /** The template's own strings when nothing was nested: a stable key for the compiled text. */
    readonly template?: TemplateStringsArray,
  ) {}
}

export type Dialect = 'sqlite' | 'postgres';

function flatten(strings: readonly string[], values: readonly unknown[]) {
  const outStrings: string[] = [strings[0] ?? ''];
  const outValues: unknown[] = [];
  const append = (text: string) => {
    outStrings[outStrings.length - 1] += text;
  };
  values.forEach((value, index) => {
    if (value instanceof Sql) {
      const inner = flatten(value.strings, value.values);
      append(inner.strings[0] ?? '');
      for (let i = 0; i < inner.values.length; i++) {
        outValues.push(inner.values[i]);
        outStrings.push(inner.strings[i + 1] ?? '');
      }
    } else if (value instanceof Raw) {
      append(value.text);
    } else {
      outValues.push(value);
      outStrings.push('');
    }
    append(strings[index + 1] ?? '');
  });
  return { strings: outStrings, values: outValues };
}

const isNested = (value: unknown) => value instanceof Sql || value instanceof Raw;

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  if (!values.some(isNested)) return new Sql(strings, values, strings);
  const flat = flatten(strings, values);
  return new Sql(flat.strings, flat.values);
}

/** A constant piece of SQL (an identifier, a keyword); never user input. */
sql.raw = (text: string) => new Raw(text);

/** The same bound value usable several times in one query. */
sql.param = (value: unknown) => new Param(value);

/** Fragments joined by a separator, e.g. a list of value tuples. */
sql.join = (parts: readonly Sql[], separator = ', '): Sql => {
  const values: unknown[] = [];
  parts.forEach((part, index) => {
    if (index > 0) values.push(new Raw(separator));
    values.push(part);
  });
  const flat = flatten(new Array<string>(values.length + 1).fill(''), values);
  return new Sql(flat.strings, flat.values);
};

export const empty = new Sql([''], []);

export interface Compiled {
  text: string;
  /** Bound values in order; for SQLite, a last object holds the values of repeated `sql.param`s. */
  values: unknown[];
}

const bindable = (value: unknown) => {
  if (value instanceof Date) return value.getTime();
  if (value === undefined) throw new TypeError('undefined bound in SQL: pass null for "no value"');
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
};

const textCache: Record<Dialect, WeakMap<TemplateStringsArray, string>> = {
  sqlite: new WeakMap(),
  postgres: new WeakMap(),
};

/** The query's text with this store's placeholders, and its values ready to bind. */
export function compile(query: Sql, dialect: Dialect): Compiled {
  const hasParams = query.values.some((value) => value instanceof Param);
  const cached = !hasParams && query.template ? textCache[dialect].get(query.template) : undefined;
  if (cached !== undefined) return { text: cached, values: query.values.map(bindable) };

  const numbers = new Map<Param, number>();
  const values: unknown[] = [];
  const named: Record<string, unknown> = {};
  let text = query.strings[0] ?? '';
  query.values.forEach((value, index) => {
    if (value instanceof Param) {
      let number = numbers.get(value);
      if (number === undefined) {
        if (dialect === 'postgres') {
          values.push(bindable(value.value));
          number = values.length;
        } else {
          number = numbers.size + 1;
          named[`r${number}`] = bindable(value.value);
        }
        numbers.set(value, number);
      }
      text += dialect === 'postgres' ? `$${number}` : `@r${number}`;
    } else {
      values.push(bindable(value));
      text += dialect === 'postgres' ? `$${values.length}` : '?';
    }
    text += query.strings[index + 1] ?? '';
  });
  if (numbers.size > 0 && dialect === 'sqlite') values.push(named);
  if (!hasParams && query.template) textCache[dialect].set(query.template, text);
  return { text, values };
}
