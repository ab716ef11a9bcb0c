// API area: evaluation — a run's checkpoint measured on photos with masks, at any threshold.
import { z } from 'zod'
import type { EvaluationApi } from '../../../shared/api/evaluation'
import { getRun } from '../training/records'
import { createEvaluation, evaluationAt, listEvaluations } from '../evaluation/records'
import { evaluationItems } from '../evaluation/jobs'
import type { Methods, Schemas } from './area'
import { checkpoint, id, threshold } from './schema-parts'
import type { ServiceContext } from './context'

type K = keyof EvaluationApi

export const evaluationSchemas: Schemas<K> = {
  'evaluations.start': z.object({ runId: id, checkpoint, source: z.enum(['val', 'test', 'dataset']), datasetId: id.optional() }).strict(),
  'evaluations.list': z.object({ runId: id }).strict(),
  'evaluations.get': z.object({ id, threshold }).strict()
}

export function evaluationMethods(s: ServiceContext): Methods<K> {
  const db = () => s.requireProject().project.db
  const jobs = () => s.requireProject().jobs
  return {
    async 'evaluations.start'({ runId, checkpoint, source, datasetId }) {
      const run = getRun(db(), runId)
      const { datasetName, items } = evaluationItems(db(), runId, source, datasetId)
      const evaluationId = createEvaluation(db(), runId, checkpoint, source, datasetName)
      return jobs().start('evaluate', `Evaluate “${run.name}” (${checkpoint}) on ${datasetName}, ${items.length} photos`, {
        evaluationId,
        runId,
        checkpoint,
        source,
        datasetId
      })
    },
    async 'evaluations.list'({ runId }) {
      return listEvaluations(db(), runId)
    },
    async 'evaluations.get'({ id, threshold }) {
      return evaluationAt(db(), id, threshold)
    }
  }
}
