/** Money and percentages as the decider's messages print them (two decimals at most). */
export const pct = (n: number): string => `${(Math.round(n * 100) / 100).toFixed(2)}%`;
export const money = (n: number): string => `${Math.round(n * 100) / 100}`;
