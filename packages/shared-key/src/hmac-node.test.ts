import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createNodeHmac } from './hmac-node'

const reference = (key: Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest('base64')

describe('createNodeHmac (padded keys prepared once, one-shot hashes)', () => {
  it('matches createHmac for short, long, unicode and empty strings, across the reused-buffer limit', () => {
    const key = randomBytes(64)
    const hmac = createNodeHmac(key.toString('base64'))
    const texts = ['', 'a', 'PUT\n\n\n1024\n', 'é€𝄞 unicode', 'x'.repeat(1365), 'x'.repeat(1366), 'é'.repeat(2000), 'y'.repeat(70_000)]
    for (const text of texts) expect(hmac(text), `length ${text.length}`).toBe(reference(key, text))
  })

  it('a long signature does not disturb the next short one (the buffer is rewritten, not appended)', () => {
    const key = randomBytes(64)
    const hmac = createNodeHmac(key.toString('base64'))
    expect(hmac('a much longer string to sign than the next one')).toBe(reference(key, 'a much longer string to sign than the next one'))
    expect(hmac('short')).toBe(reference(key, 'short'))
  })

  it('keys shorter and longer than the 64-byte block, as RFC 2104 pads or hashes them', () => {
    for (const length of [1, 32, 63, 64, 65, 100]) {
      const key = randomBytes(length)
      expect(createNodeHmac(key.toString('base64'))('payload'), `key of ${length} bytes`).toBe(reference(key, 'payload'))
    }
  })
})
