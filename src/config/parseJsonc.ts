import { createScanner, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { ValidationError } from '../errors/index.js';
import { quote } from '../_internals/zodIssues.js';
import { lastOf, present } from '../_internals/present.js';

/** Deeper than any real setting (the deepest key is `reconcile.perSymbol.<symbol>.<key>`). */
export const MAX_CONFIG_DEPTH = 16;

// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot read.
const OPEN_BRACE = 1;
const OPEN_BRACKET = 3;
const CLOSE_BRACE = 2;
const CLOSE_BRACKET = 4;
const EOF = 17;

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${lastOf(before, 'line').length + 1}`;
}

function pathText(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(root)' : path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/**
 * The value of a parse tree, built with own properties only: `__proto__` as a key is refused
 * (assigned, it would set the object's prototype and slip past the strict key check).
 */
function valueOf(node: Node, file: string, text: string, path: (string | number)[]): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        if (keyNode === undefined || valueNode === undefined) continue;
        const key = String(keyNode.value);
        if (key === '__proto__') {
          throw new ValidationError(
            `${file}: ${pathText([...path, key])}: the key "__proto__" is not allowed (at ${lineAndColumn(text, keyNode.offset)})`,
            [{ path: pathText([...path, key]), message: 'the key "__proto__" is not allowed' }],
          );
        }
        Object.defineProperty(out, key, {
          value: valueOf(valueNode, file, text, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map((child, i) => valueOf(child, file, text, [...path, i]));
    case 'property': // only ever met as an object's child, above
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
      return node.value;
  }
}

/**
 * Parses the text of a config file (JSON with comments and trailing commas) into a plain
 * object, refusing what JSON.parse-like readers get wrong at a boundary: a UTF-8 byte-order
 * mark is skipped, nesting deeper than {@link MAX_CONFIG_DEPTH} is an error before any
 * recursive parser sees it, and `__proto__` keys are refused. Errors are ValidationErrors
 * naming the file and the place.
 *
 * @example
 * ```ts
 * parseJsoncObject('{ "book": "main" } // mine', 'ptrack.config.json') // { book: 'main' }
 * ```
 */
export function parseJsoncObject(rawText: string, file: string): Record<string, unknown> {
  const text = rawText.charCodeAt(0) === 0xfeff ? rawText.slice(1) : rawText;
  // Depth first, with the scanner (a loop): the parser recurses and would overflow the stack.
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== EOF; token = scanner.scan()) {
    if (token === OPEN_BRACE || token === OPEN_BRACKET) {
      depth += 1;
      if (depth > MAX_CONFIG_DEPTH) {
        throw new ValidationError(
          `${file}: nested deeper than ${MAX_CONFIG_DEPTH} levels at ${lineAndColumn(text, scanner.getTokenOffset())}`,
        );
      }
    } else if (token === CLOSE_BRACE || token === CLOSE_BRACKET) {
      depth = Math.max(0, depth - 1);
    }
  }
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const e = present(errors[0], 'first parse error');
    throw new ValidationError(`${file}: not valid JSON at ${lineAndColumn(text, e.offset)}: ${printParseErrorCode(e.error)}`);
  }
  const raw = tree === undefined ? undefined : valueOf(tree, file, text, []);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError(`${file}: expected a JSON object of settings, got ${quote(raw)}`);
  }
  return raw as Record<string, unknown>;
}
