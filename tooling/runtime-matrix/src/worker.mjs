// Entry for workerd: a real Worker. The emulator and the IMDS stand-in are reached only through the
// service bindings the workerd config gives it (EMULATOR: https with the emulator's CA trusted; IMDS:
// http); the config arrives as the CONFIG json binding. GET /run runs the suite (any other path answers `ok`: the harness's readiness check) and answers its results.
import { runSuite } from './suite.mjs'

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname !== '/run') return new Response('ok')
    const routes = [
      [env.CONFIG.authorityHost, env.EMULATOR],
      [env.CONFIG.imds.url, env.IMDS],
    ]
    const fetch = (input, init) => {
      const outgoing = new Request(input, init)
      const route = routes.find(([origin]) => outgoing.url.startsWith(origin))
      if (route === undefined) return Promise.reject(new TypeError(`no binding for ${outgoing.url}`))
      return route[1].fetch(outgoing)
    }
    const results = await runSuite(env.CONFIG, fetch)
    return Response.json(results)
  },
}
