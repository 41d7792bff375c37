// Entry for Node, Bun and Deno: reads the config the harness put in AZCRED_MATRIX_CONFIG, runs the suite
// with the runtime's own global fetch and prints one result line for the harness.
import { runSuite } from './suite.mjs'

const env = globalThis.Deno?.env.toObject() ?? globalThis.process.env
const results = await runSuite(JSON.parse(env.AZCRED_MATRIX_CONFIG))
console.log(`AZCRED_MATRIX_RESULT ${JSON.stringify(results)}`)
