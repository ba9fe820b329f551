/**
 * JSON with object keys sorted (by UTF-16 code units, as Array.prototype.sort does) at every
 * level, no white space, and properties whose value is `undefined` left out, as
 * JSON.stringify leaves them out. Two equal values always give the same text, so it can be
 * hashed: a reader in any language that sorts keys the same way recomputes the checksum.
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonicalJson(value, (chunk) => parts.push(chunk));
  return parts.join('');
}

/** How much text is gathered before it is handed on. */
const CHUNK = 64 * 1024;

/**
 * The canonical JSON of `value`, handed to `emit` in pieces of about 64 KiB, in order: a large
 * read model is hashed and written without ever being one string in memory.
 */
export function writeCanonicalJson(value: unknown, emit: (chunk: string) => void): void {
  let buffer = '';
  const push = (text: string): void => {
    buffer += text;
    if (buffer.length >= CHUNK) {
      emit(buffer);
      buffer = '';
    }
  };
  write(value, push);
  if (buffer.length > 0) emit(buffer);
}

function write(value: unknown, push: (text: string) => void): void {
  if (value === null) {
    push('null');
    return;
  }
  switch (typeof value) {
    case 'number':
      // JSON has no NaN or Infinity; -0 is written as 0, as JSON.stringify does.
      push(Number.isFinite(value) ? JSON.stringify(value) : 'null');
      return;
    case 'string':
    case 'boolean':
      push(JSON.stringify(value));
      return;
    case 'object': {
      if (Array.isArray(value)) {
        push('[');
        for (let i = 0; i < value.length; i++) {
          if (i > 0) push(',');
          const item: unknown = value[i];
          write(item === undefined || typeof item === 'function' ? null : item, push);
        }
        push(']');
        return;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      push('{');
      let first = true;
      for (const key of keys) {
        const v = record[key];
        if (v === undefined || typeof v === 'function') continue;
        push(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
        first = false;
        write(v, push);
      }
      push('}');
      return;
    }
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      // No JSON form here.
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}
