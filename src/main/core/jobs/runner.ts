// The job runner: one row per job, one long-lived job process, progress and cancel.
// It lives where the project is open (main process, web host, CLI); the work happens in the job process.
import { hostname } from 'node:os'
import { ApiError } from '../../../shared/errors'
import type { JobStatus } from '../../../shared/domain'
import { jobProblems, type JobFields, type JobInfo, type JobKind, type JobParams } from '../../../shared/api/jobs'
import type { EventName } from '../../../shared/api'
import type { Project } from '../project'
import { toErrorShape } from '../store/errors'
import type { FromJobProcess, JobProcess, JobProcessFactory } from './protocol'

/** A row of the jobs table: the fields every host sees, in SQL's names. */
interface JobRow extends Pick<JobFields, 'id' | 'title' | 'status' | 'done' | 'total' | 'message' | 'error'> {
  kind: JobKind
  result: string | null
  created_at: string
  started_at: string | null
  finished_at: string | null
}

const owner = `${hostname()}:${process.pid}`

function isAlive(jobOwner: string | null): boolean {
  if (!jobOwner) return false
  const [host, pid] = jobOwner.split(':')
  if (host !== hostname()) return false
  try {
    process.kill(Number(pid), 0)
    return true
  } catch {
    return false
  }
}

function toInfo(row: JobRow): JobInfo {
  let eta: number | null = null
  if (row.status === 'running' && row.started_at && row.done > 0 && row.total > row.done) {
    const elapsed = (Date.now() - Date.parse(row.started_at)) / 1000
    eta = Math.round((elapsed * (row.total - row.done)) / row.done)
  }
  const result = row.result ? JSON.parse(row.result) : null
  // Stored as 'succeeded' (the table's statuses predate it): a job whose result lists failed items ended with problems.
  const problems = row.status === 'succeeded' ? jobProblems({ kind: row.kind, result }) : []
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    status: problems.length > 0 ? 'done-with-problems' : row.status,
    done: row.done,
    total: row.total,
    message: row.message,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    etaSeconds: eta,
    problems,
    result
  } as JobInfo
}

export class JobRunner {
  private process: JobProcess | undefined
  private readonly waiters = new Map<number, ((job: JobInfo) => void)[]>()

  /** Jobs whose row could not be written (a full disk): failed in memory so waiters and the UI still learn of it. */
  private readonly unsaved = new Map<number, JobInfo>()

  constructor(
    private readonly project: Project,
    private readonly spawn: JobProcessFactory,
    private readonly emit: (job: JobInfo) => void,
    /** A job's own events (see JobContext.event). */
    private readonly emitJobEvent: (name: EventName, payload: unknown) => void = () => {}
  ) {
    if (!project.readOnlyReason) this.safely(0, () => this.markInterrupted())
  }

  /**
   * Run a write to the jobs table from a message handler. A failure (SQLITE_FULL on a full disk) must not
   * escape: the host would die. The job is failed in memory instead, and the job process told to stop it.
   */
  private safely(jobId: number, write: () => void, jobError?: string): boolean {
    try {
      write()
      return true
    } catch (err) {
      if (!jobId) return false
      const message = jobError ?? toErrorShape(err, { projectDir: this.project.dir }).message
      const before = this.unsaved.get(jobId) ?? this.tryGet(jobId)
      if (!before || before.status !== 'running') return false
      const job: JobInfo = { ...before, status: 'failed', error: message, finishedAt: new Date().toISOString(), etaSeconds: null }
      this.unsaved.set(jobId, job)
      this.process?.send({ type: 'cancel', jobId })
      this.emit(job)
      for (const resolve of this.waiters.get(jobId) ?? []) resolve(job)
      this.waiters.delete(jobId)
      return false
    }
  }

  private tryGet(id: number): JobInfo | undefined {
    try {
      return this.get(id)
    } catch {
      return undefined
    }
  }

  /** Jobs left queued or running by a process that is gone (a crash, a closed app) are marked interrupted. */
  private markInterrupted(): void {
    const stale = this.project.db.prepare(`SELECT id, owner FROM jobs WHERE status IN ('queued','running')`).all() as { id: number; owner: string | null }[]
    const mark = this.project.db.prepare(
      `UPDATE jobs SET status = 'interrupted', finished_at = ?, message = 'Leafseg stopped while this job was running.' WHERE id = ?`
    )
    for (const job of stale) if (!isAlive(job.owner)) mark.run(new Date().toISOString(), job.id)
  }

  private row(id: number): JobRow {
    const row = this.project.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined
    if (!row) throw new ApiError('not_found', `There is no job ${id}.`)
    return row
  }

  get(id: number): JobInfo {
    return this.unsaved.get(id) ?? toInfo(this.row(id))
  }

  /** The jobs a person has not cleared, newest first. */
  list(limit = 100): JobInfo[] {
    const rows = this.project.db.prepare('SELECT * FROM jobs WHERE cleared = 0 ORDER BY id DESC LIMIT ?').all(limit) as JobRow[]
    return rows.map((row) => this.unsaved.get(row.id) ?? toInfo(row))
  }

  /** Take the finished jobs off the list; queued and running ones stay. */
  clear(): void {
    this.project.db.prepare(`UPDATE jobs SET cleared = 1 WHERE status NOT IN ('queued','running')`).run()
  }

  private ensureProcess(): JobProcess {
    if (this.process) return this.process
    const proc = this.spawn()
    proc.onMessage((m) => this.onMessage(m))
    proc.onExit((reason) => {
      if (this.process === proc) this.process = undefined
      if (!this.project.db.open) return
      const live = this.project.db.prepare(`SELECT id FROM jobs WHERE status = 'running' AND owner = ?`).all(owner) as { id: number }[]
      for (const { id } of live) if (!this.unsaved.has(id)) this.finish(id, 'failed', { error: `The job stopped unexpectedly: ${reason}.` })
    })
    this.process = proc
    return proc
  }

  /** Start a job. `params` are stored with the job; `secrets` only travel to the job process. */
  start<K extends JobKind>(kind: K, title: string, params: JobParams<K>, secrets: Record<string, string> = {}): JobInfo<K> {
    const now = new Date().toISOString()
    const { lastInsertRowid } = this.project.db
      .prepare(`INSERT INTO jobs (kind, title, params, status, created_at, started_at, owner) VALUES (?, ?, ?, 'running', ?, ?, ?)`)
      .run(kind, title, JSON.stringify(params ?? {}), now, now, owner)
    const id = Number(lastInsertRowid)
    this.ensureProcess().send({ type: 'run', jobId: id, kind, params, secrets, projectDir: this.project.dir })
    const job = this.get(id) as JobInfo<K>
    this.emit(job)
    return job
  }

  cancel(id: number): JobInfo {
    const row = this.row(id)
    if (row.status === 'running' || row.status === 'queued') this.process?.send({ type: 'cancel', jobId: id })
    return toInfo(row)
  }

  /** Resolves when the job has finished, whatever the outcome. */
  wait(id: number): Promise<JobInfo> {
    const job = this.get(id)
    if (job.status !== 'running' && job.status !== 'queued') return Promise.resolve(job)
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]))
  }

  private finish(id: number, status: JobStatus, fields: { error?: string; result?: unknown }): void {
    if (this.unsaved.has(id)) return // already failed in memory; what the process says now is the cancel it was sent
    const saved = this.safely(
      id,
      () =>
        this.project.db
          .prepare(`UPDATE jobs SET status = ?, error = ?, result = ?, finished_at = ? WHERE id = ?`)
          .run(status, fields.error ?? null, fields.result === undefined ? null : JSON.stringify(fields.result), new Date().toISOString(), id),
      fields.error
    )
    if (!saved) return
    const job = this.get(id)
    this.emit(job)
    for (const resolve of this.waiters.get(id) ?? []) resolve(job)
    this.waiters.delete(id)
  }

  private onMessage(m: FromJobProcess): void {
    if (!this.project.db.open) return
    switch (m.type) {
      case 'progress':
        if (this.unsaved.has(m.jobId)) break
        if (
          this.safely(m.jobId, () =>
            this.project.db.prepare('UPDATE jobs SET done = ?, total = ?, message = ? WHERE id = ?').run(m.done, m.total, m.message, m.jobId)
          )
        ) {
          this.emit(this.get(m.jobId))
        }
        break
      case 'event':
        this.emitJobEvent(m.name, m.payload)
        break
      case 'succeeded':
        this.finish(m.jobId, 'succeeded', { result: m.result })
        break
      case 'failed':
        this.finish(m.jobId, 'failed', { error: m.error.message })
        break
      case 'cancelled':
        this.finish(m.jobId, 'cancelled', {})
        break
    }
  }

  /** Stop the job process; jobs still running are marked interrupted. */
  dispose(): void {
    const proc = this.process
    this.process = undefined
    proc?.kill()
    if (this.project.db.open && !this.project.readOnlyReason) {
      this.safely(0, () =>
        this.project.db
          .prepare(
            `UPDATE jobs SET status = 'interrupted', finished_at = ?, message = 'Leafseg closed the project while this job was running.' WHERE status IN ('queued','running') AND owner = ?`
          )
          .run(new Date().toISOString(), owner)
      )
    }
  }
}
