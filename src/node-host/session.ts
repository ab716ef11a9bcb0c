// A session for a Node host (the command line, the web host): the service, its job process, and a client
// that calls the API through `dispatch`, so every argument is validated as it is for the app's windows.
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { ApiArgs, ApiMethod, ApiResult, LeafsegClient } from '../shared/api'
import { ApiError } from '../shared/errors'
import { LeafsegService } from '../main/core/service/service'
import { checkArgs, dispatch } from '../main/core/service/dispatch'
import { forkJobProcess, inProcessJobs } from './job-process'

export function userDataDir(): string {
  return process.env.LEAFSEG_USER_DATA ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'leafseg')
}

export interface Session {
  client: LeafsegClient
  /** Validate an argument as `call` would, without calling: a command that does several things refuses before the first. */
  check<M extends ApiMethod>(method: M, args: ApiArgs<M>): void
  /** The service itself, for a host that serves it (the web host). */
  service: LeafsegService
  dispose(): void
}

/**
 * The command line runs its jobs in this process; the web host forks a job process so requests stay
 * responsive. Development builds (LEAFSEG_DEV=1) offer the test job.
 */
export function startSession(host: 'cli' | 'web'): Session {
  const service = new LeafsegService({
    host,
    userDataDir: userDataDir(),
    jobProcess: host === 'cli' ? inProcessJobs : forkJobProcess,
    typedPathsAreChoices: true,
    demoJob: process.env.LEAFSEG_DEV === '1'
  })
  const client: LeafsegClient = {
    async call<M extends ApiMethod>(method: M, args: ApiArgs<M>): Promise<ApiResult<M>> {
      const answer = await dispatch(service, method, args)
      if (!answer.ok) throw new ApiError(answer.error.code, answer.error.message)
      return answer.value as ApiResult<M>
    },
    on(event, listener) {
      return service.events.subscribe((name, payload) => {
        if ((name as string) === event) listener(payload as never)
      })
    }
  }
  const check = (method: ApiMethod, args: unknown) => {
    const answer = checkArgs(method, args)
    if (!answer.ok) throw new ApiError(answer.error.code, answer.error.message, { method, fields: answer.fields })
  }
  return { client, service, check, dispose: () => service.dispose() }
}
