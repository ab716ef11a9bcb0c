// The ml core's public API (see each module for details).
export { initBackend, probeTensorflowGpu, defaultWasmDir, type BackendInfo, type BackendName, type BackendOptions } from './backend'
export { buildUnet, checkTrainingFits, estimateTrainingBytes, lossFunction, UNET_PRESETS, type UnetConfig, type UnetPreset, type LossName, type FitCheck } from './unet'
export {
  augmentedPreviews,
  loadExample,
  streamBatches,
  DEFAULT_AUGMENT,
  type AugmentOptions,
  type Sample,
  type Sampling,
  type Batch,
  type Example
} from './data'
export { trainUnet, checkTrainingInput, type TrainOptions, type TrainResult, type EpochMetrics, type Metrics } from './train'
export { createPredictor, type Predictor } from './predict'
export { saveModelFiles, loadModelFiles, loadModelMeta, type ModelMeta } from './model-io'
