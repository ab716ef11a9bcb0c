// The one way tests wait: poll for the state they expect, with a deadline, never sleep a fixed time.

export interface WaitOptions {
  /** What is awaited, in words: the error says "waiting for <what>". */
  what: string
  /** Give up after this long (default 10 s: generous on a busy machine, short enough to fail a stuck test). */
  timeoutMs?: number
  /** Time between two checks (default 20 ms). */
  intervalMs?: number
}

/**
 * Check `condition` until it gives a truthy value, and return that value. After `timeoutMs` without one it
 * throws an error naming `what` (and the last error the condition threw, if it threw).
 */
export async function waitFor<T>(condition: () => T | Promise<T>, { what, timeoutMs = 10_000, intervalMs = 20 }: WaitOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await condition()
      if (value) return value as NonNullable<T>
      lastError = undefined
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last check threw: ${lastError instanceof Error ? lastError.message : String(lastError)})`
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
