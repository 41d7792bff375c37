import type { DeviceCodeInfo } from './device-code-sign-in'

/** Where the Node prompt writes (stderr), for tests. */
export interface PromptStream {
  isTTY?: boolean
  write(text: string): unknown
}

/** QR code of `text` as lines of half-block characters (two modules per character, with a quiet zone). */
export async function terminalQrCode(text: string): Promise<string> {
  const { default: qrcode } = await import('qrcode-generator')
  const qr = qrcode(0, 'L')
  qr.addData(text)
  qr.make()
  const size = qr.getModuleCount()
  const quiet = 2
  const dark = (row: number, column: number): boolean => row >= 0 && column >= 0 && row < size && column < size && qr.isDark(row, column)
  const lines: string[] = []
  for (let row = -quiet; row < size + quiet; row += 2) {
    let line = ''
    for (let column = -quiet; column < size + quiet; column += 1) {
      const top = dark(row, column)
      const bottom = dark(row + 1, column)
      // Dark modules are spaces on a light background: scanners need the light quiet zone around the code.
      line += top ? (bottom ? ' ' : '▄') : bottom ? '▀' : '█'
    }
    lines.push(line)
  }
  return `${lines.join('\n')}\n`
}

/**
 * The Node default prompt: Entra's message on stderr, then (when stderr is a terminal) a QR code of the
 * verification page. A QR code that cannot be made is left out (the message is already shown).
 */
export async function nodeDefaultPrompt(info: DeviceCodeInfo, stream: PromptStream = process.stderr): Promise<void> {
  stream.write(`${info.message}\n`)
  if (stream.isTTY !== true) return
  try {
    stream.write(await terminalQrCode(info.verificationUri))
  } catch {}
}
