// Evaluation, full-resolution prediction and leaf measurement: the public surface of this folder.
export * from './metrics'
export * from './errors'
export * from './mask'
export * from './tiling'
export * from './measure'
export * from './csv'
export * from './evaluate'
