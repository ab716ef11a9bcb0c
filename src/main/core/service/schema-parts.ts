// The zod pieces every API area's schemas are built from. A leaf module: each area imports it, none imports
// another area for them.
import { z } from 'zod'
import { maxIdsPerCall, probabilityThresholdBounds, pxPerMmBounds, trimapBounds, type Bound } from '../../../shared/bounds'

export const none = z.object({}).strict()
export const filePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot contain NUL')
export const id = z.number().int().positive()
/** A number within a bound of src/shared/bounds.ts; `whole` for counts. */
export const within = (b: Bound) => z.number().min(b.min).max(b.max)
export const whole = (b: Bound) => within(b).int()
/** At most maxIdsPerCall ids. */
export const ids = z.array(id).min(1).max(maxIdsPerCall)

const trimapSettings = {
  kernelSize: whole(trimapBounds.kernelSize),
  fgIterations: whole(trimapBounds.fgIterations),
  bgIterations: whole(trimapBounds.bgIterations)
}
/** The trimap choice beside other fields: 'auto' alone, or 'fixed' with its three values. */
export const withTrimapChoice = <T extends z.ZodRawShape>(fields: T) =>
  z.discriminatedUnion('mode', [
    z.object({ ...fields, mode: z.literal('auto') }).strict(),
    z.object({ ...fields, mode: z.literal('fixed'), ...trimapSettings }).strict()
  ])
export const trimapChoice = withTrimapChoice({})

/** Which checkpoint of a run: the best by validation, or the last (for resuming). */
export const checkpoint = z.enum(['best', 'last'])
/** A probability threshold: leaf where p reaches it. */
export const threshold = within(probabilityThresholdBounds)
/** Pixels per millimetre: above the bound's minimum (0 is not a scale). */
export const pxPerMm = z.number().gt(pxPerMmBounds.min).max(pxPerMmBounds.max)
