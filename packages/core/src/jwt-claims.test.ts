import { expect, it } from 'vitest'
import { describeJwtSubject, jwtExpiresAt, readJwtClaims } from './jwt-claims'

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

it('reads the payload of a JWT, including base64url characters and unicode', () => {
  const claims = { iss: 'https://issuer.example.invalid', sub: 'repo:contoso/ünïcode:ref:refs/heads/main', aud: ['api://AzureADTokenExchange'], exp: 1 }
  const token = `${encode({ alg: 'RS256' })}.${encode(claims)}.signature`
  expect(readJwtClaims(token)).toEqual(claims)
  expect(describeJwtSubject(token)).toBe(
    'iss "https://issuer.example.invalid", sub "repo:contoso/ünïcode:ref:refs/heads/main", aud "api://AzureADTokenExchange"',
  )
})

it('returns undefined for things that are not JWTs, and never echoes them', () => {
  expect(readJwtClaims('planted-secret')).toBeUndefined()
  expect(readJwtClaims('a.!!!.c')).toBeUndefined()
  expect(describeJwtSubject('planted-secret')).not.toContain('planted')
})

it('reads exp as milliseconds, and 0 when the token has none', () => {
  expect(jwtExpiresAt(`${encode({ alg: 'none' })}.${encode({ exp: 1_800_000_000 })}.`)).toBe(1_800_000_000_000)
  expect(jwtExpiresAt(`${encode({ alg: 'none' })}.${encode({ sub: 'x' })}.`)).toBe(0)
  expect(jwtExpiresAt('not-a-jwt')).toBe(0)
})

it('reads an unpadded base64url payload of every length (0, 1 or 2 bytes past a whole group)', () => {
  for (const sub of ['a', 'ab', 'abc']) {
    const payload = encode({ sub })
    expect(payload).not.toContain('=')
    expect(readJwtClaims(`${encode({ alg: 'none' })}.${payload}.`)).toEqual({ sub })
  }
})

it('describes a token with several audiences, and names missing claims as undefined', () => {
  expect(describeJwtSubject(`${encode({ alg: 'none' })}.${encode({ iss: 'i', aud: ['a', 'b'] })}.`)).toBe('iss "i", sub "undefined", aud "a,b"')
})
