// The job process's side: runs handlers, forwards rate-limited progress, honours cancel.
// Hosts wire `serveJobs` to their transport (Electron parentPort, Node IPC, or in-process).
import { ApiError } from '../../../shared/errors'
import { toErrorShape } from '../store/errors'
import { openProject, type Project } from '../project'
import type { JobHandler, JobHandlers } from './context'
import type { JobKind, JobParams } from '../../../shared/api/jobs'
import type { FromJobProcess, ToJobProcess } from './protocol'

const progressIntervalMs = 100

/** Serve jobs with these handlers (assembled by the host's composition file, see job-handlers.ts). */
export function serveJobs(handlers: JobHandlers, send: (m: FromJobProcess) => void): (m: ToJobProcess) => void {
  const running = new Map<number, AbortController>()
  const projects = new Map<string, Project>()

  function project(dir: string): Project {
    let p = projects.get(dir)
    if (!p) {
      p = openProject(dir)
      projects.set(dir, p)
    }
    return p
  }

  async function run(m: Extract<ToJobProcess, { type: 'run' }>): Promise<void> {
    const controller = new AbortController()
    running.set(m.jobId, controller)
    let last = 0
    try {
      if (!Object.hasOwn(handlers, m.kind)) throw new ApiError('internal', `Unknown job kind “${m.kind}”.`)
      // The params were stored by JobRunner.start for this very kind.
      const handler = handlers[m.kind] as JobHandler<JobKind>
      const result = await handler(m.params as JobParams<JobKind>, {
        project: project(m.projectDir),
        signal: controller.signal,
        jobId: m.jobId,
        secrets: m.secrets,
        progress(done, total, message) {
          const now = Date.now()
          if (now - last < progressIntervalMs && done < total) return
          last = now
          send({ type: 'progress', jobId: m.jobId, done, total, message: message ?? null })
        },
        event(name, payload) {
          send({ type: 'event', jobId: m.jobId, name, payload })
        }
      })
      send({ type: 'succeeded', jobId: m.jobId, result: result ?? null })
    } catch (err) {
      if (controller.signal.aborted) send({ type: 'cancelled', jobId: m.jobId })
      else send({ type: 'failed', jobId: m.jobId, error: toErrorShape(err, { projectDir: m.projectDir }) })
    } finally {
      running.delete(m.jobId)
    }
  }

  return (m) => {
    if (m.type === 'run') void run(m)
    else running.get(m.jobId)?.abort()
  }
}
