// Datasets: the file side of bringing photos and masks into a project. No database here: each function
// takes paths and gives results; the import job records them.
//
// Photos:   scanPhotos(inputs) -> inspectPhotos(files, { thumbnail }) (hash, size, oriented width/height,
//           thumbnail, or a problem) -> findDuplicates(results)
// Masks:    scanPhotos(maskFolder) -> matchMasksToPhotos(photos, masks) -> normaliseMask(mask, { expected })
//           -> writeMask(mask, { binary, instances })
// Labelbox: parseLabelboxExport -> downloadLabelboxMasks (resumable) -> matchLabelboxRows -> labelboxRowMask
// COCO:     parseCoco -> matchCocoImages -> cocoImageInstances; export: exportMaskFolder, writeCocoJson
// Leaves:   one stored format for every source (instances.ts); readInstanceIds(project, photo) reads a photo's
//           leaf ids (training, evaluation, export)
// Bad input throws (or, for photos, returns) a DatasetError / problem whose message names the file.
export * from './photos'
export * from './masks'
export * from './match'
export * from './labelbox'
export * from './coco'
export * from './instances'
export * from './errors'
export { forEachBounded, stemOf } from './util'
