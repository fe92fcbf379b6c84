/** Which windows of leaves the auditor compares with D1 in one call (src/audit/log-verify.ts). */

/** The windows one call compares: the newest complete one, then `budget - 1` more from a rotation by `turn`. */
export function pickWindows(complete: number, budget: number, turn: number): number[] {
  if (complete === 0 || budget < 1) return [];
  const picked = new Set<number>([complete - 1]);
  const start = (turn * budget) % complete;
  for (let i = 0; picked.size < Math.min(budget, complete); i++) picked.add((start + i) % complete);
  return [...picked].sort((a, b) => a - b);
}
