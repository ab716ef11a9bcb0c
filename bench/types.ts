/** One figure printed by `npm run bench` as a JSON line. */
export interface BenchLine {
  bench: string
  value: number | null
  unit: string
  backend?: string
  note?: string
  [extra: string]: unknown
}

export type Emit = (line: BenchLine) => void

/** A benchmark module: `bench/<area>.bench.ts` exports one of these as default. */
export interface Bench {
  /** Area name; `npm run bench -- NAME` runs the benches whose area or figure names start with NAME. */
  area: string
  run(emit: Emit, filter: (figure: string) => boolean): Promise<void>
}
