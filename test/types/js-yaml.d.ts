// js-yaml ships no types (and @types/js-yaml is not installed): the one function the tests use.
declare module 'js-yaml' {
  /** Parses one YAML document (the default schema: YAML 1.2 core plus merge keys). Throws on bad YAML. */
  export function load(text: string): unknown;
}
