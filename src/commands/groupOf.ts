/**
 * The correlation group of a symbol in a group map (group name -> symbols), or undefined
 * when the symbol is in none (or there is no symbol). The first group listing it wins.
 *
 * @example
 * ```ts
 * groupOf({ tech: ['AAPL', 'MSFT'] }, 'MSFT'); // 'tech'
 * ```
 */
export function groupOf(groups: Readonly<Record<string, readonly string[]>>, symbol: string | undefined): string | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent; the lists hold strings, so without this line the loop finds no group for undefined and returns undefined too
  if (symbol === undefined) return undefined;
  for (const [group, symbols] of Object.entries(groups)) if (symbols.includes(symbol)) return group;
  return undefined;
}
