// Every method's argument schema, assembled from the areas: the adapters validate each call with these.
import type { ApiMethod } from '../../../shared/api'
import type { Schemas } from './area'
import { appSchemas } from './app'
import { datasetSchemas } from './datasets'
import { mattingSchemas } from './matting'
import { trainingSchemas } from './training'
import { evaluationSchemas } from './evaluation'

export const apiSchemas: Schemas<ApiMethod> = { ...appSchemas, ...datasetSchemas, ...mattingSchemas, ...trainingSchemas, ...evaluationSchemas }

export const apiMethods = Object.keys(apiSchemas) as ApiMethod[]
