import { mock, test } from 'node:test'
import { hostname } from 'node:os'
import assert from 'node:assert/strict'
import { createProject, openProject } from '../../src/main/core/project'
import { JobRunner } from '../../src/main/core/jobs/runner'
import { serveJobs } from '../../src/main/core/jobs/worker'
import type { JobHandler, JobHandlers } from '../../src/main/core/jobs/context'
import type { FromJobProcess } from '../../src/main/core/jobs/protocol'
import { forkJobProcess, inProcessJobs } from '../../src/node-host/job-process'
import type { JobInfo } from '../../src/shared/api/jobs'
import { tempDir } from '../helpers/temp'
import { waitFor } from '../helpers/wait'

function setup(factory = forkJobProcess) {
  const dir = tempDir()
  const project = createProject(dir, 'Jobs')
  const events: JobInfo[] = []
  const runner = new JobRunner(project, factory, (j) => events.push(j))
  return { dir, project, runner, events }
}

test('a demo job runs in a child process, reports its progress up to the last step and succeeds', async () => {
  const { project, runner, events } = setup()
  try {
    const job = runner.start('demo', 'Count', { steps: 30, stepMs: 10 })
    assert.equal(job.status, 'running')
    const done = await runner.wait(job.id)
    assert.equal(done.status, 'succeeded')
    assert.deepEqual(done.result, { steps: 30 })
    assert.equal(done.done, 30)
    const progress = events.filter((e) => e.id === job.id && e.status === 'running')
    // How many steps are sent depends on the machine's speed (see the rate test below); the last always is.
    assert.equal(progress.at(-1)?.done, 30, 'the last step is reported before the job ends')
    assert.ok(
      progress.every((e, i) => i === 0 || e.done >= progress[i - 1].done),
      `progress goes forward: ${progress.map((e) => e.done)}`
    )
  } finally {
    runner.dispose()
    project.close()
  }
})

test('progress leaves the job process at most every 100 ms, and the last step always does', async () => {
  // The job process's clock is mocked and each step takes 10 ms of it: steps 1, 11 and 21 are 100 ms apart,
  // the ones between are dropped, and the last (30) is sent because it is the last.
  const project = createProject(tempDir(), 'Rate')
  project.close()
  const counting: JobHandler<'demo'> = async (params, ctx) => {
    for (let i = 1; i <= params.steps; i++) {
      mock.timers.tick(params.stepMs)
      ctx.progress(i, params.steps)
    }
    return { steps: params.steps }
  }
  const sent: FromJobProcess[] = []
  const handle = serveJobs({ demo: counting } as Partial<JobHandlers> as JobHandlers, (m) => sent.push(m))
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
  try {
    // The counting job has no await: all of its steps run within this call.
    handle({ type: 'run', jobId: 1, kind: 'demo', params: { steps: 30, stepMs: 10 }, secrets: {}, projectDir: project.dir })
  } finally {
    mock.timers.reset()
  }
  await waitFor(() => sent.some((m) => m.type !== 'progress'), { what: 'the counting job to end' })
  assert.deepEqual(
    sent.map((m) => (m.type === 'progress' ? m.done : m.type)),
    [1, 11, 21, 30, 'succeeded']
  )
})

test('the job process is started once and reused', async () => {
  let spawned = 0
  const { project, runner } = setup(() => {
    spawned++
    return forkJobProcess()
  })
  try {
    const a = runner.start('demo', 'A', { steps: 2, stepMs: 1 })
    const b = runner.start('demo', 'B', { steps: 2, stepMs: 1 })
    assert.equal((await runner.wait(a.id)).status, 'succeeded')
    assert.equal((await runner.wait(b.id)).status, 'succeeded')
    assert.equal(spawned, 1)
  } finally {
    runner.dispose()
    project.close()
  }
})

test('a job cancelled midway stops and is marked cancelled', async () => {
  const { project, runner } = setup()
  try {
    // 1000 steps of 20 ms: still running long after its first step, when it is cancelled.
    const job = runner.start('demo', 'Long', { steps: 1000, stepMs: 20 })
    await waitFor(() => runner.get(job.id).done > 0, { what: 'the first step of the demo job', timeoutMs: 60_000 })
    runner.cancel(job.id)
    const done = await runner.wait(job.id)
    assert.equal(done.status, 'cancelled')
    assert.ok(done.done < 1000)
  } finally {
    runner.dispose()
    project.close()
  }
})

test('a failing job carries its message', async () => {
  const { project, runner } = setup(inProcessJobs)
  try {
    const job = runner.start('demo', 'Fails', { steps: 5, stepMs: 1, failAt: 2 })
    const done = await runner.wait(job.id)
    assert.equal(done.status, 'failed')
    assert.match(done.error ?? '', /failed on purpose at step 2/)
  } finally {
    runner.dispose()
    project.close()
  }
})

test('jobs left running by a crashed process are marked interrupted on the next start', () => {
  const { dir, project, runner } = setup(inProcessJobs)
  runner.dispose()
  project.db
    .prepare(`INSERT INTO jobs (kind, title, status, created_at, started_at, owner) VALUES ('demo', 'Crashed', 'running', ?, ?, ?)`)
    .run(new Date().toISOString(), new Date().toISOString(), 'some-other-host:1')
  project.db
    .prepare(`INSERT INTO jobs (kind, title, status, created_at, started_at, owner) VALUES ('demo', 'Live here', 'running', ?, ?, ?)`)
    .run(new Date().toISOString(), new Date().toISOString(), `${hostname()}:${process.pid}`)
  project.close()
  const reopened = openProject(dir)
  const again = new JobRunner(reopened, inProcessJobs, () => {})
  try {
    const byTitle = Object.fromEntries(again.list().map((j) => [j.title, j.status]))
    assert.equal(byTitle['Crashed'], 'interrupted')
    assert.equal(byTitle['Live here'], 'running')
  } finally {
    reopened.close()
  }
})

test('a job process that dies fails its running jobs with a message', async () => {
  let child: ReturnType<typeof forkJobProcess> | undefined
  const { project, runner } = setup(() => (child = forkJobProcess()))
  try {
    const job = runner.start('demo', 'Doomed', { steps: 1000, stepMs: 20 })
    await waitFor(() => runner.get(job.id).done > 0, { what: 'the first step of the demo job', timeoutMs: 60_000 })
    child!.kill()
    const done = await runner.wait(job.id)
    assert.equal(done.status, 'failed')
    assert.match(done.error ?? '', /stopped unexpectedly/)
    const next = runner.start('demo', 'After', { steps: 2, stepMs: 1 })
    assert.equal((await runner.wait(next.id)).status, 'succeeded')
  } finally {
    runner.dispose()
    project.close()
  }
})
