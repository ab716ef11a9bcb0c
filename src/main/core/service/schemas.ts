// Every method's argument schema, assembled from the areas: the adapters validate each call with these.
import type { ApiMethod } from '../../../shared/api'
import type { Schemas } from './area'
import { appSchemas } from './app'
import { jobsSchemas } from './jobs'
import { datasetSchemas } from './datasets'
import { mattingSchemas } from './matting'
import { trainingSchemas } from './training'
import { evaluationSchemas } from './evaluation'
import { predictionSchemas } from './prediction'
import { labellingSchemas } from './labelling'

export const apiSchemas: Schemas<ApiMethod> = {
  ...appSchemas,
  ...jobsSchemas,
  ...datasetSchemas,
  ...mattingSchemas,
  ...trainingSchemas,
  ...evaluationSchemas,
  ...predictionSchemas,
  ...labellingSchemas
}

export const apiMethods = Object.keys(apiSchemas) as ApiMethod[]
