import { AzcredError } from '../azcred-error'

/** The AzcredError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<AzcredError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!AzcredError.isInstance(error)) throw new Error(`expected an AzcredError, got ${String(error)}`)
  return error
}
