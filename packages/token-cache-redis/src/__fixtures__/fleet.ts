// Drives a fleet of fleet-child.mjs processes: spawns them, sends one JSON command to all at the same
// moment, collects their answers (bounded in time), ends them by PID.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export interface FleetMessage {
  type: string
  id?: number
  hash?: string
  ms?: number
  at?: number
  code?: string
  kind?: string
  event?: Record<string, unknown>
}

export interface Member {
  index: number
  pid: number
  child: ChildProcess
  messages: FleetMessage[]
  alive: boolean
}

const childScript = fileURLToPath(new URL('./fleet-child.mjs', import.meta.url))

export class Fleet {
  readonly members: Member[] = []
  readonly #listeners: Array<(member: Member, message: FleetMessage) => void> = []
  #nextId = 1

  static async start(size: number, env: Record<string, string>, timeoutMs = 90_000): Promise<Fleet> {
    const fleet = new Fleet()
    const ready: Promise<void>[] = []
    for (let index = 0; index < size; index += 1) {
      const child = spawn(process.execPath, [childScript], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
      const member: Member = { index, pid: child.pid as number, child, messages: [], alive: true }
      fleet.members.push(member)
      let stderr = ''
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2_000)
      })
      child.once('exit', () => {
        member.alive = false
      })
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.once('exit', (code) =>
            reject(new Error(`fleet process ${index} exited (${code}) before it was ready: ${JSON.stringify(member.messages)} ${stderr}`)),
          )
          createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
            let message: FleetMessage
            try {
              message = JSON.parse(line)
            } catch {
              return
            }
            member.messages.push(message)
            if (message.type === 'ready') resolve()
            for (const listener of fleet.#listeners) listener(member, message)
          })
        }),
      )
    }
    await withTimeout(Promise.all(ready), timeoutMs, `the fleet of ${size} was not ready within ${timeoutMs} ms`)
    return fleet
  }

  get alive(): Member[] {
    return this.members.filter((member) => member.alive)
  }

  onMessage(listener: (member: Member, message: FleetMessage) => void): () => void {
    this.#listeners.push(listener)
    return () => this.#listeners.splice(this.#listeners.indexOf(listener), 1)
  }

  /** Sends `command` to every live member in one loop and waits for each one's answer (`token`, `failed`, `advanced`). */
  async all(command: Record<string, unknown>, timeoutMs = 45_000): Promise<Map<Member, FleetMessage>> {
    const id = this.#nextId++
    const members = this.alive
    const answers = new Map<Member, FleetMessage>()
    const done = new Promise<void>((resolve) => {
      const stop = this.onMessage((member, message) => {
        if (message.id === id) answers.set(member, message)
        if (members.every((candidate) => answers.has(candidate) || !candidate.alive)) {
          stop()
          resolve()
        }
      })
    })
    const line = `${JSON.stringify({ ...command, id })}\n`
    for (const member of members) member.child.stdin?.write(line)
    // A member killed while the command runs answers never: its absence ends the wait too.
    const poll = setInterval(() => {
      if (members.every((candidate) => answers.has(candidate) || !candidate.alive))
        for (const listener of [...this.#listeners]) listener(members[0] as Member, { type: 'tick' })
    }, 100)
    try {
      await withTimeout(done, timeoutMs, `${members.length - answers.size} fleet processes did not answer ${String(command.cmd)} within ${timeoutMs} ms`)
    } finally {
      clearInterval(poll)
    }
    return answers
  }

  kill(member: Member): void {
    try {
      process.kill(member.pid, 'SIGKILL')
    } catch {}
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(
        (member) =>
          new Promise<void>((resolve) => {
            if (!member.alive) return resolve()
            member.child.once('exit', () => resolve())
            this.kill(member)
          }),
      ),
    )
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
