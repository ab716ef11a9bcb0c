// Matting: trimaps from masks (workflow step 3), closed-form alpha mattes and cutouts (step 3b).
export {
  TrimapMaker,
  TrimapError,
  makeTrimap,
  validateTrimap,
  resolveTrimapOptions,
  LEAF_THRESHOLD,
  TRIMAP_BACKGROUND,
  TRIMAP_UNKNOWN,
  TRIMAP_FOREGROUND,
  type TrimapOptions,
  type TrimapStats
} from './trimap'
export { closedFormMatte, alphaToBytes, type ClosedFormOptions, type MatteResult } from './closedForm'
export { estimateForeground, makeCutout, type ForegroundOptions } from './foreground'
export {
  writeTrimapForMask,
  matteFile,
  matteBatch,
  type MatteItem,
  type MatteFileOptions,
  type MatteFileResult,
  type BatchOutcome,
  type JobControl
} from './files'
