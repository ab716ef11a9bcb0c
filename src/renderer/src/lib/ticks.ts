// Axis ticks at round values (1, 2 or 5 times a power of ten), as a person would label an axis by hand.

/** The round step (1, 2 or 5 × 10^k) nearest `rough`. */
export function roundStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1
  const power = 10 ** Math.floor(Math.log10(rough))
  const f = rough / power
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * power
}

/** Round values from `min` to `max` (both included when round), about `count` of them; [min] when min = max. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return []
  if (max <= min) return [min]
  const step = roundStep((max - min) / Math.max(1, count))
  const ticks: number[] = []
  // the step's own decimals, so 0.1 + 0.2 reads 0.3
  const decimals = Math.max(0, -Math.floor(Math.log10(step)))
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(decimals)))
  return ticks
}

/** Whole-number ticks for counts from 0 up to at least `most` (the axis ends at the last one). */
export function countTicks(most: number, count = 4): number[] {
  const step = Math.max(1, roundStep(most / Math.max(1, count)))
  const ticks = [0]
  while (ticks[ticks.length - 1] < most) ticks.push(ticks[ticks.length - 1] + step)
  return ticks
}
